"""Operator commands of every service: `actions`, `dead-letters`, `consumers`, `outbox`.

    python -m services.<name> dead-letters list|show|replay|discard
    python -m services.<name> consumers lag|pause|resume
    python -m services.<name> outbox status|republish
    python -m services.<name> actions list

Every command takes `--json`. Changing commands take `--actor` (default: the OS user) and
`--reason`, and write an `operator_action` row in the transaction of the change. Exit codes:
0 done, 1 refused or nothing matched, 2 usage error (argparse), 3 broker or database unreachable.
"""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import consumer_pause, dead_letter_ops
from shared.db import create_engine, create_session_factory
from shared.kafka import committed_lag, dead_letter_topic
from shared.operator_audit import (
    ALL_PARTITIONS,
    ALL_TOPICS,
    Operator,
    os_user,
    recent_operator_actions,
)
from shared.outbox import OutboxEventMixin
from shared.outbox_replay import oldest_kept_event, outbox_status, republish_since
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
OPS_COMMANDS = ("actions", "dead-letters", "consumers", "outbox")


class Refused(Exception):
    """The command was understood but not done (nothing matched, nothing to change): exit 1."""


@dataclass(frozen=True)
class OpsTarget:
    """What the operator commands of one service work on."""

    settings: ServiceSettings
    outbox_model: type[OutboxEventMixin] | None = None
    consumed_topics: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return str(getattr(self.settings, "consumer_group", self.settings.service_name))


def parse_since(value: str) -> datetime:
    """An ISO 8601 time; a time without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_actions_command(commands: argparse._SubParsersAction) -> None:
    actions = commands.add_parser("actions", help="the audit trail of operator actions")
    sub = actions.add_subparsers(dest="ops_command", required=True)
    listing = _leaf(sub, "list", "recorded operator actions, newest first")
    listing.add_argument("--limit", type=_positive, default=50)


def add_ops_commands(commands: argparse._SubParsersAction) -> None:
    """Every operator command of a domain service (one with consumers and an outbox)."""
    add_actions_command(commands)
    _add_dead_letter_commands(commands)
    _add_consumer_commands(commands)
    _add_outbox_commands(commands)


def _add_dead_letter_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dead-letters", help="records a consumer group gave up on")
    sub = parser.add_subparsers(dest="ops_command", required=True)
    listing = _leaf(sub, "list", "dead letters with coordinates and reasons")
    _group(listing)
    listing.add_argument("--all", action="store_true", help="include replayed and discarded ones")
    show = _leaf(sub, "show", "one dead letter decoded: headers and value")
    _group(show)
    _selectors(show, since=False)
    for name, text in (
        ("replay", "send selected dead letters back to their original topic"),
        ("discard", "record selected dead letters as dealt with, so list hides them"),
    ):
        leaf = _leaf(sub, name, text)
        _group(leaf)
        _selectors(leaf, since=True)
        leaf.add_argument("--all", action="store_true", help="also those already disposed of")
        _operator_options(leaf, reason_required=True)


def _add_consumer_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("consumers", help="consumer groups: lag, pause, resume")
    sub = parser.add_subparsers(dest="ops_command", required=True)
    lag = _leaf(sub, "lag", "end offset minus committed offset, per partition")
    _group(lag)
    for name, text, reason_required in (
        ("pause", "stop applying events (kept in the database; survives restarts)", True),
        ("resume", "apply events again", False),
    ):
        leaf = _leaf(sub, name, text)
        _group(leaf)
        leaf.add_argument("--topic", default=ALL_TOPICS, help="one topic (default: all)")
        leaf.add_argument(
            "--partition", type=int, default=ALL_PARTITIONS, help="one partition of --topic"
        )
        _operator_options(leaf, reason_required=reason_required)


def _add_outbox_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("outbox", help="the transactional outbox")
    sub = parser.add_subparsers(dest="ops_command", required=True)
    _leaf(sub, "status", "backlog, oldest unpublished age, parked rows with reasons")
    republish = _leaf(sub, "republish", "publish again the events kept since a time")
    republish.add_argument(
        "--since",
        required=True,
        type=parse_since,
        help="ISO 8601 time, e.g. 2026-11-23T10:00:00Z (UTC when no offset is given)",
    )
    republish.add_argument(
        "--include-parked", action="store_true", help="also retry rows parked after failures"
    )
    _operator_options(republish, reason_required=True)


def _leaf(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    leaf = sub.add_parser(name, help=text, description=text)
    leaf.add_argument("--json", action="store_true", help="print JSON instead of text")
    return leaf


def _group(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", help="consumer group (default: the service's own)")


def _selectors(parser: argparse.ArgumentParser, *, since: bool) -> None:
    parser.add_argument(
        "--offset",
        action="append",
        default=[],
        metavar="PARTITION:OFFSET",
        help="a dead letter's coordinates on the dead-letter topic (repeatable)",
    )
    parser.add_argument("--event-id", action="append", default=[], help="(repeatable)")
    if since:
        parser.add_argument(
            "--since", type=parse_since, help="every dead letter from this ISO 8601 time on"
        )


def _operator_options(parser: argparse.ArgumentParser, *, reason_required: bool) -> None:
    parser.add_argument("--actor", default=os_user(), help="who does this (default: OS user)")
    parser.add_argument("--reason", required=reason_required, help="why (recorded)")


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {value!r}")
    return int(value)


def run_ops_command(args: argparse.Namespace, target: OpsTarget) -> int:
    """Run a parsed operator command; prints the result and returns the exit code."""
    return run_and_report(args, lambda: _dispatch(args, target))


def run_and_report(args: argparse.Namespace, work: Callable[[], Coroutine[Any, Any, Any]]) -> int:
    """Run `work`, print what it returns, and map failures onto the documented exit codes."""
    try:
        result: Any = asyncio.run(work())
    except Refused as refusal:
        sys.stderr.write(f"refused: {refusal}\n")
        return EXIT_REFUSED
    except (KafkaError, OperationalError, InterfaceError, OSError, TimeoutError) as error:
        sys.stderr.write(f"unreachable: {type(error).__name__}: {error}\n")
        return EXIT_UNREACHABLE
    print_result(result, as_json=getattr(args, "json", False))
    return EXIT_OK


def print_result(result: Any, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    rows = result if isinstance(result, list) else [result]
    for row in rows:
        if isinstance(row, dict):
            sys.stdout.write("  ".join(f"{k}={_text(v)}" for k, v in row.items()) + "\n")
        else:
            sys.stdout.write(f"{row}\n")


def _text(value: Any) -> str:
    return json.dumps(value, default=str) if isinstance(value, list | dict) else str(value)


async def _dispatch(args: argparse.Namespace, target: OpsTarget) -> Any:
    engine = create_engine(target.settings.resolved_database_url)
    try:
        sessions = create_session_factory(engine)
        return await _COMMANDS[(args.command, args.ops_command)](args, target, sessions)
    finally:
        await engine.dispose()


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
    records = await dead_letter_ops.read_dead_letters(target.settings, group)
    chosen = [record for record in records if _selection(args).matches(record)]
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
        disposed = await dead_letter_ops.disposed_coordinates(session, dead_letter_topic(group))
    return [record for record in records if record.coordinates not in disposed]


def _selection(args: argparse.Namespace) -> dead_letter_ops.Selection:
    if not (args.offset or args.event_id or getattr(args, "since", None)):
        raise Refused("choose dead letters with --offset, --event-id or --since")
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


def _outbox(target: OpsTarget) -> type[OutboxEventMixin]:
    if target.outbox_model is None:
        raise Refused("this service has no outbox")
    return target.outbox_model


_COMMANDS: dict[
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
}
