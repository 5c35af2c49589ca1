"""What the operator commands do (`shared.ops_cli` parses them and prints the results).

Each command is one async function of the parsed arguments, the service it works on and a
session factory on the service's database; it returns plain data, or raises `Refused` (exit 1)
or `UsageError` (exit 2).
"""

import argparse
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import consumer_pause, dead_letter_ops
from shared.kafka import committed_lag, dead_letter_topic
from shared.operator_audit import (
    ALL_PARTITIONS,
    ALL_TOPICS,
    Operator,
    recent_operator_actions,
    record_operator_action,
)
from shared.outbox import OutboxEventMixin
from shared.outbox_replay import (
    StateAnnouncer,
    oldest_kept_event,
    outbox_status,
    republish_since,
)
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class Refused(Exception):
    """The command was understood but not done (nothing matched, nothing to change): exit 1."""


class UsageError(Exception):
    """Options that parse but do not make sense together: exit 2, as argparse's own errors."""


@dataclass(frozen=True)
class OpsTarget:
    """What the operator commands of one service work on."""

    settings: ServiceSettings
    outbox_model: type[OutboxEventMixin] | None = None
    consumed_topics: tuple[str, ...] = ()
    state_announcer: StateAnnouncer | None = None

    @property
    def group(self) -> str:
        return str(getattr(self.settings, "consumer_group", self.settings.service_name))


Sessions = async_sessionmaker[AsyncSession]


async def list_actions(session: AsyncSession, *, limit: int) -> list[dict[str, Any]]:
    """`actions list`: the latest recorded operator actions as plain rows, newest first."""
    return [dict(row._mapping) for row in await recent_operator_actions(session, limit=limit)]


async def _actions_list(args: argparse.Namespace, _: OpsTarget, sessions: Sessions) -> Any:
    async with sessions() as session:
        return await list_actions(session, limit=args.limit)


async def _dead_letters_list(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions
) -> Any:
    group = args.group or target.group
    records = await _undisposed(args, target, sessions, group)
    return [record.summary() for record in records]


async def _dead_letters_show(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions
) -> Any:
    group = args.group or target.group
    selection = _selection(args)
    records = await dead_letter_ops.read_dead_letters(target.settings, group)
    chosen = [record for record in records if selection.matches(record)]
    if not chosen:
        raise Refused(f"no such dead letter on {dead_letter_topic(group)}")
    return [record.decoded() for record in chosen]


async def _dead_letters_dispose(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions
) -> Any:
    group = args.group or target.group
    selection = _selection(args)
    chosen = [r for r in await _undisposed(args, target, sessions, group) if selection.matches(r)]
    if not chosen:
        raise Refused(f"no dead letter on {dead_letter_topic(group)} matches")
    disposition = "replayed" if args.ops_command == "replay" else "discarded"
    if disposition == "replayed":
        sourceless = [
            record.coordinates for record in chosen if not record.header("dlq_source_topic")
        ]
        if sourceless:
            raise Refused(f"no source topic recorded on {', '.join(sourceless)}; nothing replayed")
        await dead_letter_ops.replay(target.settings, chosen)
    async with sessions() as session:
        await dead_letter_ops.record_disposals(
            session,
            group=group,
            records=chosen,
            disposition=disposition,
            operator=Operator(args.actor, args.reason),
        )
    return [{**record.summary(), "disposition": disposition} for record in chosen]


async def _undisposed(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions, group: str
) -> list[dead_letter_ops.DeadLetter]:
    records = await dead_letter_ops.read_dead_letters(target.settings, group)
    if args.all:
        return records
    async with sessions() as session:
        disposed = await dead_letter_ops.disposed_records(session, dead_letter_topic(group))
    return [record for record in records if record.identity not in disposed]


def _selection(args: argparse.Namespace) -> dead_letter_ops.Selection:
    if not (args.offset or args.event_id or getattr(args, "since", None)):
        raise UsageError("choose dead letters with --offset, --event-id or --since")
    return dead_letter_ops.Selection(
        coordinates=frozenset(args.offset),
        event_ids=frozenset(args.event_id),
        since=getattr(args, "since", None),
    )


async def _consumers_lag(args: argparse.Namespace, target: OpsTarget, sessions: Sessions) -> Any:
    group = args.group or target.group
    rows = await committed_lag(target.settings, group, target.consumed_topics)
    async with sessions() as session:
        rules = frozenset(
            (row["topic"], row["partition"])
            for row in await consumer_pause.list_pauses(session, group)
        )
    return [
        {
            **row,
            "paused": consumer_pause.is_paused(
                rules, str(row["topic"]), int(row["partition"] or 0)
            ),
        }
        for row in rows
    ]


async def _consumers_pause_or_resume(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions
) -> Any:
    group = args.group or target.group
    if args.partition != ALL_PARTITIONS and args.topic == ALL_TOPICS:
        raise UsageError("--partition needs --topic")
    change = consumer_pause.pause if args.ops_command == "pause" else consumer_pause.resume
    async with sessions() as session:
        changed = await change(
            session,
            group=group,
            topic=args.topic,
            partition=args.partition,
            operator=Operator(args.actor, args.reason),
        )
    where = consumer_pause.describe_target(group, args.topic, args.partition)
    if not changed:
        raise Refused(
            f"{where} is already {'paused' if args.ops_command == 'pause' else 'running'}"
        )
    return {"target": where, "state": "paused" if args.ops_command == "pause" else "resumed"}


async def _outbox_status(_: argparse.Namespace, target: OpsTarget, sessions: Sessions) -> Any:
    return await outbox_status(sessions, _outbox(target), now=datetime.now(UTC))


async def _outbox_republish(args: argparse.Namespace, target: OpsTarget, sessions: Sessions) -> Any:
    model = _outbox(target)
    oldest = await oldest_kept_event(sessions, model)
    count = await republish_since(
        sessions,
        model,
        args.since,
        include_parked=args.include_parked,
        operator=Operator(args.actor, args.reason),
    )
    if oldest is not None and args.since < oldest:
        log.warning("events before %s are no longer kept in the outbox", oldest.isoformat())
    return {
        "queued": count,
        "since": args.since.isoformat(),
        "oldest_kept": oldest.isoformat() if oldest else None,
        "note": "the running service's relay sends them",
    }


async def _outbox_announce_state(
    args: argparse.Namespace, target: OpsTarget, sessions: Sessions
) -> Any:
    if target.state_announcer is None:
        raise Refused(f"{target.settings.service_name} has no state to announce")
    details = {
        "received_since": args.since.isoformat() if args.since else None,
        "locality_code": args.locality,
    }
    # Recorded before the pages are written: an interrupted run is still on the record.
    async with sessions() as session, session.begin():
        await record_operator_action(
            session,
            actor=args.actor,
            action="outbox.announce-state",
            target=target.settings.service_name,
            reason=args.reason,
            details=details,
        )
    count = await target.state_announcer(
        sessions, received_since=args.since, locality_code=args.locality
    )
    if not count:
        raise Refused("nothing matched: no state announced")
    return {"announced": count, **details, "note": "the running service's relay sends them"}


def _outbox(target: OpsTarget) -> type[OutboxEventMixin]:
    if target.outbox_model is None:
        raise Refused("this service has no outbox")
    return target.outbox_model


COMMANDS: dict[
    tuple[str, str], Callable[[argparse.Namespace, OpsTarget, Sessions], Awaitable[Any]]
] = {
    ("actions", "list"): _actions_list,
    ("dead-letters", "list"): _dead_letters_list,
    ("dead-letters", "show"): _dead_letters_show,
    ("dead-letters", "replay"): _dead_letters_dispose,
    ("dead-letters", "discard"): _dead_letters_dispose,
    ("consumers", "lag"): _consumers_lag,
    ("consumers", "pause"): _consumers_pause_or_resume,
    ("consumers", "resume"): _consumers_pause_or_resume,
    ("outbox", "status"): _outbox_status,
    ("outbox", "republish"): _outbox_republish,
    ("outbox", "announce-state"): _outbox_announce_state,
}
