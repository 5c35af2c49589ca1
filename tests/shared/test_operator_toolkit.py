"""The operator commands against the real broker: dead letters, lag, pause and resume, outbox.

Commands run the way `python -m services.<name> ...` runs them (parsed arguments, printed JSON,
exit codes), in a thread because each runs its own event loop.
"""

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.cli import add_service_commands
from shared.consumer import EventConsumer
from shared.events import EventEnvelope
from shared.kafka import dead_letter_topic, ensure_topics
from shared.ops_cli import add_ops_commands, run_ops_command
from shared.ops_commands import OpsTarget
from shared.outbox import outbox_row
from shared.settings import ServiceSettings
from tests.harness import wait_until
from tests.shared.models import OutboxEvent, ProcessedEvent
from tests.shared.test_consumer import count_per_key, publish, tally_of

pytestmark = pytest.mark.integration

# Events whose handler fails until the test "fixes the cause" by removing them.
BROKEN: set[str] = set()


async def count_unless_broken(session: AsyncSession, envelope: EventEnvelope) -> None:
    if envelope.id in BROKEN:
        raise ValueError("a bug in the handler, fixed later")
    await count_per_key(session, envelope)


CommandRunner = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def target(settings: ServiceSettings, database_url: str, service_prefix: str) -> OpsTarget:
    service_settings = settings.model_copy(
        update={"database_url": database_url, "service_name": service_prefix}
    )
    return OpsTarget(service_settings, OutboxEvent, (f"{service_prefix}.thing",))


@pytest.fixture
def ops(
    target: OpsTarget, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture
) -> CommandRunner:
    """Run one operator command; its exit code and its JSON output (None when it printed none)."""
    parser = argparse.ArgumentParser()
    add_ops_commands(add_service_commands(parser))

    async def run(*argv: str) -> tuple[int, Any]:
        capsys.readouterr()
        code = await asyncio.to_thread(
            run_ops_command, parser.parse_args([*argv, "--json"]), target
        )
        out, err = capsys.readouterr()
        if code:
            logging.getLogger(__name__).info("exit %d: %s", code, err)
        return code, json.loads(out) if out.strip() else None

    return run


class _ConsumerStarter:
    """Starts the service's consumer (again, for a restart); stops them all at the end."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        target: OpsTarget,
    ) -> None:
        self.args = (settings, sessions, producer, target)
        self.running: list[tuple[EventConsumer, asyncio.Task[None]]] = []

    async def __call__(self) -> EventConsumer:
        settings, sessions, producer, target = self.args
        await ensure_topics(settings, [*target.consumed_topics, dead_letter_topic(target.group)])
        consumer = EventConsumer(
            settings,
            group_id=target.group,
            topics=target.consumed_topics,
            handlers={event_type_of(target): count_unless_broken},
            session_factory=sessions,
            processed_model=ProcessedEvent,
            producer=producer,
            pause_check_every_s=0.2,
        )
        task = asyncio.create_task(consumer.run())
        await asyncio.wait_for(consumer.started.wait(), 30)
        self.running.append((consumer, task))
        return consumer

    async def stop(self, consumer: EventConsumer) -> None:
        for running, task in self.running:
            if running is consumer:
                running.stop()
                await asyncio.wait_for(task, 15)


@pytest.fixture
async def consumers(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    target: OpsTarget,
) -> AsyncIterator[_ConsumerStarter]:
    starter = _ConsumerStarter(settings, sessions, producer, target)
    yield starter
    for consumer, task in starter.running:
        consumer.stop()
        await asyncio.wait_for(task, 15)


def event_type_of(target: OpsTarget) -> str:
    return f"{target.group}.thing.happened.v1"


def event(target: OpsTarget, subject: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(source="/test", type=event_type_of(target), subject=subject, data=data)


async def test_a_dead_letter_replayed_after_the_fix_is_applied_once_even_when_replayed_twice(
    consumers: _ConsumerStarter,
    ops: CommandRunner,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    target: OpsTarget,
) -> None:
    await consumers()
    poison = event(target, "r", tally="replayed")
    BROKEN.add(poison.id)
    await publish(producer, poison)
    await publish(producer, event(target, "r", tally="fence-1"))
    assert await wait_until(tally_of(sessions, "fence-1"), timeout_s=60) == 1

    listed = await wait_until(lambda: _listed(ops), timeout_s=30)
    (letter,) = listed
    assert letter["event_id"] == poison.id
    assert letter["event_type"] == poison.type
    assert "ValueError" in letter["reason"]
    code, shown = await ops(
        "dead-letters", "show", "--offset", f"{letter['partition']}:{letter['offset']}"
    )
    assert code == 0
    assert shown[0]["value"] == {"tally": "replayed"}

    BROKEN.discard(poison.id)  # the cause is fixed
    code, replayed = await ops(
        "dead-letters", "replay", "--event-id", poison.id, "--reason", "handler fixed"
    )
    assert (code, replayed[0]["disposition"]) == (0, "replayed")
    assert await wait_until(tally_of(sessions, "replayed"), timeout_s=60) == 1
    assert await ops("dead-letters", "list") == (0, [])  # a replayed letter is hidden

    # Replayed again (it is hidden now, so --all): the inbox drops the second copy.
    assert (await ops("dead-letters", "replay", "--event-id", poison.id, "--reason", "x"))[0] == 1
    code, _ = await ops(
        "dead-letters", "replay", "--event-id", poison.id, "--all", "--reason", "twice"
    )
    assert code == 0
    await publish(producer, event(target, "r", tally="fence-2"))  # after the replay, same key
    assert await wait_until(tally_of(sessions, "fence-2"), timeout_s=60) == 1
    assert await tally_of(sessions, "replayed")() == 1

    code, actions = await ops("actions", "list")
    assert [(a["action"], a["reason"]) for a in actions] == [
        ("dead-letters.replay", "twice"),
        ("dead-letters.replay", "handler fixed"),
    ]


async def test_a_discarded_dead_letter_is_listed_only_with_all(
    consumers: _ConsumerStarter,
    ops: CommandRunner,
    producer: AIOKafkaProducer,
    target: OpsTarget,
) -> None:
    await consumers()
    poison = event(target, "d", tally="never")
    BROKEN.add(poison.id)
    await publish(producer, poison)
    (letter,) = await wait_until(lambda: _listed(ops), timeout_s=60)

    code, _ = await ops(
        "dead-letters",
        "discard",
        "--offset",
        f"{letter['partition']}:{letter['offset']}",
        "--reason",
        "test data sent by mistake",
    )
    assert code == 0
    assert await ops("dead-letters", "list") == (0, [])
    code, everything = await ops("dead-letters", "list", "--all")
    assert [row["event_id"] for row in everything] == [poison.id]
    code, actions = await ops("actions", "list", "--limit", "1")
    assert actions[0]["action"] == "dead-letters.discard"
    assert actions[0]["details"]["event_ids"] == [poison.id]


async def test_a_paused_consumer_applies_nothing_even_after_a_restart_until_resumed(
    consumers: _ConsumerStarter,
    ops: CommandRunner,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    target: OpsTarget,
) -> None:
    consumer = await consumers()
    await publish(producer, event(target, "p", tally="before"))
    assert await wait_until(tally_of(sessions, "before"), timeout_s=60) == 1

    code, paused = await ops("consumers", "pause", "--reason", "investigating", "--actor", "ann")
    assert (code, paused["state"]) == (0, "paused")
    await wait_until(lambda: consumer.health()["paused"], timeout_s=30)
    await publish(producer, event(target, "p", tally="held"))
    await _polls(consumer, 5)
    assert await tally_of(sessions, "held")() == 0
    assert sum(row["lag"] for row in (await ops("consumers", "lag"))[1]) == 1

    await consumers.stop(consumer)
    restarted = await consumers()
    await wait_until(lambda: restarted.health()["paused"], timeout_s=60)
    await _polls(restarted, 5)
    assert await tally_of(sessions, "held")() == 0

    assert (await ops("consumers", "resume", "--actor", "ann"))[0] == 0
    assert await wait_until(tally_of(sessions, "held"), timeout_s=60) == 1
    await wait_until(lambda: _total_lag(ops, expected=0), timeout_s=30)  # the offset is committed
    assert (await ops("consumers", "resume"))[0] == 1  # nothing paused: refused
    code, actions = await ops("actions", "list")
    assert [(a["action"], a["actor"]) for a in actions] == [
        ("consumers.resume", "ann"),
        ("consumers.pause", "ann"),
    ]


async def test_outbox_status_shows_backlog_and_parked_rows_and_republish_is_audited(
    ops: CommandRunner, sessions: async_sessionmaker[AsyncSession], target: OpsTarget
) -> None:
    now = datetime.now(UTC)
    waiting, parked = (
        outbox_row(OutboxEvent, event(target, "o")),
        outbox_row(OutboxEvent, event(target, "o")),
    )
    waiting.created_at = now - timedelta(minutes=10)
    parked.parked_at, parked.last_error = now, "MessageSizeTooLargeError: too big"
    async with sessions() as session, session.begin():
        session.add_all([waiting, parked])

    code, status = await ops("outbox", "status")
    assert code == 0
    assert status["backlog"] == 1
    assert status["oldest_unpublished_age_s"] >= 600
    assert [(row["event_id"], row["reason"]) for row in status["parked_rows"]] == [
        (parked.event_id, "MessageSizeTooLargeError: too big")
    ]

    since = (now - timedelta(hours=1)).isoformat()
    code, republished = await ops(
        "outbox", "republish", "--since", since, "--include-parked", "--reason", "broker lost data"
    )
    assert (code, republished["queued"]) == (0, 2)
    assert (await ops("outbox", "status"))[1]["parked"] == 0
    code, actions = await ops("actions", "list")
    assert actions[0]["action"] == "outbox.republish"
    assert actions[0]["reason"] == "broker lost data"
    assert actions[0]["details"]["queued"] == 2


async def test_exit_codes_unreachable_broker_3_nothing_matched_1_usage_2(
    ops: CommandRunner, target: OpsTarget, capsys: pytest.CaptureFixture
) -> None:
    assert (await ops("dead-letters", "show", "--event-id", "no-such-event"))[0] == 1
    assert (await ops("dead-letters", "show"))[0] == 2  # which one?
    assert (await ops("consumers", "pause", "--partition", "1", "--reason", "x"))[0] == 2
    parser = argparse.ArgumentParser()
    add_ops_commands(add_service_commands(parser))
    with pytest.raises(SystemExit) as usage:
        parser.parse_args(["dead-letters", "discard", "--event-id", "x"])  # no --reason
    assert usage.value.code == 2

    nowhere = target.settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:1"})
    unreachable = OpsTarget(nowhere, target.outbox_model, target.consumed_topics)
    args = parser.parse_args(["consumers", "lag", "--json"])
    assert await asyncio.to_thread(run_ops_command, args, unreachable) == 3
    assert "unreachable" in capsys.readouterr().err


async def _listed(ops: CommandRunner) -> list[dict[str, Any]]:
    code, rows = await ops("dead-letters", "list")
    assert code == 0
    return list(rows)


async def _total_lag(ops: CommandRunner, *, expected: int) -> bool:
    code, rows = await ops("consumers", "lag")
    return code == 0 and sum(row["lag"] for row in rows) == expected


async def _polls(consumer: EventConsumer, count: int) -> None:
    """Wait for `count` more polls of the broker: the chances a running consumer gets to apply."""
    start = consumer.polls
    await wait_until(lambda: consumer.polls >= start + count, timeout_s=60)


@pytest.mark.parametrize("service", ["referrals", "actionplans", "metrics"])
def test_each_service_command_line_has_the_operator_commands_with_their_exit_codes(
    service: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    env.pop(f"{service.upper()}_DATABASE_URL", None)

    def command(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", f"services.{service}", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert command("migrate").returncode == 0
    paused = command("consumers", "pause", "--reason", "incident 7", "--actor", "ann", "--json")
    assert paused.returncode == 0, paused.stderr
    assert command("consumers", "pause", "--reason", "again").returncode == 1
    assert command("consumers", "pause").returncode == 2  # --reason is required
    assert command("consumers", "lag").returncode == 3  # no broker at 127.0.0.1:1
    listed = command("actions", "list", "--json")
    assert [(a["action"], a["actor"], a["reason"]) for a in json.loads(listed.stdout)] == [
        ("consumers.pause", "ann", "incident 7")
    ]
