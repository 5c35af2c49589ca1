"""Operator commands of every service: `actions`, `dead-letters`, `consumers`, `outbox`.

    python -m services.<name> dead-letters list|show|replay|discard
    python -m services.<name> consumers lag|pause|resume
    python -m services.<name> outbox status|republish
    python -m services.<name> actions list

Every command takes `--json`. Changing commands take `--actor` (default: the OS user) and
`--reason`, and write an `operator_action` row in the transaction of the change. Exit codes:
0 done, 1 refused or nothing matched, 2 usage error, 3 broker or database unreachable.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from sqlalchemy.exc import InterfaceError, OperationalError

from shared.db import create_engine, create_session_factory
from shared.operator_audit import ALL_PARTITIONS, ALL_TOPICS, os_user
from shared.ops_commands import COMMANDS, OpsTarget, Refused, UsageError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
OPS_COMMANDS = ("actions", "dead-letters", "consumers", "outbox")


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
    announce = _leaf(
        sub,
        "announce-state",
        "re-announce every entity's whole current state (for consumers to rebuild from)",
    )
    announce.add_argument(
        "--since", type=parse_since, help="only those received from this ISO 8601 time on"
    )
    announce.add_argument("--locality", help="only this locality's")
    _operator_options(announce, reason_required=True)


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
    except UsageError as error:
        sys.stderr.write(f"usage error: {error}\n")
        return EXIT_USAGE
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
        return await COMMANDS[(args.command, args.ops_command)](args, target, sessions)
    finally:
        await engine.dispose()
