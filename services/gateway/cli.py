"""`python -m services.gateway serve|migrate|revision|clients|keys|token mint|actions list`.

Client changes (create, update, rotate, revoke) are recorded in `operator_action` with the
operator (`--actor`, default the OS user) and `--reason`. Exit codes as `shared.ops_cli`:
0 done, 1 refused, 2 usage error, 3 database unreachable.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import clients, signing_keys
from services.gateway.config import Settings
from services.gateway.main import MIGRATIONS_DIR, configured_signing_key
from services.gateway.minting import MintRefused, MintRequest, mint_recorded_token
from services.gateway.models import Client, SigningKey
from shared.auth import ALL_SCOPES
from shared.cli import add_service_commands, configure_cli_logging, run_service_command
from shared.clock import system_clock
from shared.db import create_engine, create_session_factory
from shared.migrations import upgrade_to_head
from shared.operator_audit import Operator, os_user
from shared.ops_cli import EXIT_USAGE, add_actions_command, run_and_report
from shared.ops_commands import Refused, list_actions
from shared.problems import Problem

RATE_WINDOWS_S = {"s": 1, "m": 60, "h": 3600}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.gateway")
    commands = add_service_commands(parser)

    _add_client_commands(commands)
    add_actions_command(commands)

    keys = commands.add_parser("keys", help="token signing keys").add_subparsers(
        dest="action", required=True
    )
    keys_rotate = keys.add_parser(
        "rotate",
        help="a new active signing key; the old one verifies tokens until the last it signed "
        "expires (running gateways pick it up within GATEWAY_SIGNING_KEYS_REFRESH_S)",
    )
    keys_rotate.add_argument("--actor", default=os_user(), help="who rotates (recorded)")
    keys_rotate.add_argument("--reason", required=True, help="why, e.g. 'scheduled' or 'leaked'")
    keys_list = keys.add_parser(
        "list", help="every signing key, its state and until when it verifies"
    )
    for command in (keys_rotate, keys_list):
        command.add_argument("--json", action="store_true", help="print JSON")

    token = commands.add_parser("token", help="operators' tokens").add_subparsers(
        dest="action", required=True
    )
    mint = token.add_parser("mint", help="print an access token (recorded in the database)")
    mint.add_argument("--org", required=True)
    mint.add_argument("--scopes", default=ALL_SCOPES)
    mint.add_argument("--subject", default=None)
    mint.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    mint.add_argument("--by", default=os_user(), help="who mints it (recorded)")
    mint.add_argument(
        "--allow-in-production",
        action="store_true",
        help="mint even when ENVIRONMENT=production (OAuth client credentials are the norm)",
    )
    return parser


def _add_client_commands(commands: argparse._SubParsersAction) -> None:
    client_commands = commands.add_parser("clients", help="partner clients").add_subparsers(
        dest="action", required=True
    )
    create = _client_command(client_commands, "create", "register a client; prints its secret")
    create.add_argument("--name", required=True, help="the partner system, e.g. 'Police RMS'")
    create.add_argument("--org", required=True, help="organisation code carried in its tokens")
    create.add_argument("--scopes", required=True, help="space-separated scopes")
    create.add_argument("--rate-limit", help="QUOTA/WINDOW_SECONDS (600/60) or QUOTA/s|m|h")
    create.add_argument("--contact", help="whom to call about this partner's integration")
    _operator_options(create, reason_required=False)
    _client_command(client_commands, "list", "every client (never secrets)")
    update = _client_command(client_commands, "update", "change scopes, rate limit or contact")
    update.add_argument("client_id")
    update.add_argument("--scopes", help="space-separated scopes (replaces them all)")
    update.add_argument(
        "--rate-limit", help="QUOTA/WINDOW_SECONDS (600/60), QUOTA/s|m|h, or 'default'"
    )
    update.add_argument("--contact", help="whom to call about this partner's integration")
    _operator_options(update, reason_required=True)
    rotate = _client_command(client_commands, "rotate", "new secret; the old stops working")
    rotate.add_argument("client_id")
    _operator_options(rotate, reason_required=False)
    revoke = _client_command(client_commands, "revoke", "no more tokens for this client")
    revoke.add_argument("client_id")
    _operator_options(revoke, reason_required=False)


def _client_command(
    commands: argparse._SubParsersAction, name: str, text: str
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=text, description=text)
    # Client commands always print JSON (a new secret is shown once and scripts keep it).
    parser.add_argument("--json", action="store_true", help="print JSON (the default here)")
    return parser


def _operator_options(parser: argparse.ArgumentParser, *, reason_required: bool) -> None:
    parser.add_argument("--actor", default=os_user(), help="who does this (default: OS user)")
    parser.add_argument("--reason", required=reason_required, help="why (recorded)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_cli_logging()
    settings = Settings()
    if run_service_command(
        args, settings, app_path="services.gateway.main", migrations_dir=MIGRATIONS_DIR
    ):
        return 0
    if args.command == "keys":
        return _keys_command(settings, args)
    if args.command == "token":
        try:
            token = asyncio.run(_mint(settings, args))
        except MintRefused as refusal:
            sys.stderr.write(f"error: {refusal}\n")
            return 1
        sys.stdout.write(token + "\n")
        return 0
    if args.command == "actions":
        return run_and_report(
            args,
            lambda: _with_session(
                settings, lambda session: list_actions(session, limit=args.limit)
            ),
        )
    args.json = True
    try:
        action = _client_action(args)
    except ValueError as error:
        sys.stderr.write(f"usage error: {error}\n")
        return EXIT_USAGE
    return run_and_report(args, lambda: _with_session(settings, _refusing_problems(action)))


def _refusing_problems(
    action: Callable[[AsyncSession], Awaitable[Any]],
) -> Callable[[AsyncSession], Awaitable[Any]]:
    async def run(session: AsyncSession) -> Any:
        try:
            return await action(session)
        except Problem as problem:
            raise Refused(problem.detail) from problem

    return run


def _client_action(args: argparse.Namespace) -> Callable[[AsyncSession], Awaitable[Any]]:
    """The use case a client command runs; ValueError on an unreadable --rate-limit."""
    operator = Operator(getattr(args, "actor", ""), getattr(args, "reason", None))
    rate_limit = _rate_limit(args.rate_limit) if getattr(args, "rate_limit", None) else None

    async def run(session: AsyncSession) -> Any:
        if args.action == "create":
            quota, window = rate_limit or (None, None)
            issued = await clients.create_client(
                session,
                name=args.name,
                organisation=args.org,
                scopes=args.scopes,
                rate_limit_quota=quota,
                rate_limit_window_s=window,
                contact=args.contact,
                operator=operator,
            )
            return {**_describe(issued.client), "client_secret": issued.secret}
        if args.action == "list":
            return [_describe(client) for client in await clients.list_clients(session)]
        if args.action == "update":
            changes = clients.ClientChanges(
                scopes=args.scopes, rate_limit=rate_limit, contact=args.contact
            )
            return _describe(
                await clients.update_client(
                    session, client_id=args.client_id, changes=changes, operator=operator
                )
            )
        if args.action == "rotate":
            issued = await clients.rotate_secret(
                session, client_id=args.client_id, operator=operator
            )
            return {**_describe(issued.client), "client_secret": issued.secret}
        return _describe(
            await clients.revoke_client(session, client_id=args.client_id, operator=operator)
        )

    return run


def _keys_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "rotate" and not args.actor.strip():
        sys.stderr.write("error: --actor must name who rotates the key\n")
        return 2

    configured = configured_signing_key(settings)

    async def run(session: AsyncSession) -> Any:
        # The key the gateway would import on its first start exists before anything else, so
        # a rotation before that start retires it instead of leaving it to be imported later.
        await signing_keys.ensure_active_key_once(
            session, configured_private_key_pem=configured, now=system_clock()
        )
        if args.action == "rotate":
            rotation = await signing_keys.rotate_signing_key(
                session,
                now=system_clock(),
                verify_for=settings.longest_token_lifetime,
                actor=args.actor,
                reason=args.reason,
            )
            return {
                "active": _describe_key(rotation.active),
                "retired": [_describe_key(key) for key in rotation.retired],
            }
        return [_describe_key(key) for key in await signing_keys.list_signing_keys(session)]

    result = asyncio.run(_with_session(settings, run))
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return 0
    rows = [result["active"], *result["retired"]] if args.action == "rotate" else result
    for row in rows:
        until = f" verifies until {row['verify_until']}" if row["verify_until"] else ""
        sys.stdout.write(f"{row['kid']}  {row['state']:<8} created {row['created_at']}{until}\n")
    return 0


def _describe_key(key: SigningKey) -> dict[str, Any]:
    """A signing key for operators: never its private half."""
    return {
        "kid": key.kid,
        "state": key.state,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
        "verify_until": key.verify_until,
    }


def _rate_limit(text: str) -> tuple[int | None, int | None]:
    """QUOTA/WINDOW_SECONDS, QUOTA/s|m|h, or 'default' (None, None: the gateway's default)."""
    if text == "default":
        return None, None
    quota, _, window = text.partition("/")
    seconds = RATE_WINDOWS_S.get(window) or (int(window) if window.isdigit() else 0)
    if not quota.isdigit() or int(quota) < 1 or seconds < 1:
        raise ValueError("--rate-limit must be QUOTA/WINDOW_SECONDS (600/60) or QUOTA/s|m|h")
    return int(quota), seconds


def _describe(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "organisation": client.organisation,
        "scopes": client.scopes,
        "rate_limit": f"{client.rate_limit_quota}/{client.rate_limit_window_s}"
        if client.rate_limit_quota
        else "default",
        "created_at": client.created_at,
        "secret_rotated_at": client.secret_rotated_at,
        "revoked_at": client.revoked_at,
        "contact": client.contact,
    }


async def _with_session(
    settings: Settings, action: Callable[[AsyncSession], Awaitable[Any]]
) -> Any:
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        async with create_session_factory(engine)() as session:
            return await action(session)
    finally:
        await engine.dispose()


async def _mint(settings: Settings, args: argparse.Namespace) -> str:
    request = MintRequest(
        organisation=args.org,
        scopes=args.scopes,
        subject=args.subject,
        ttl_s=args.ttl,
        minted_by=args.by,
        allow_in_production=args.allow_in_production,
    )
    configured = configured_signing_key(settings)

    async def run(session: AsyncSession) -> str:
        # Signed with the active key in the database, as the gateway signs: a key retired by
        # `keys rotate` signs nothing more.
        key = await signing_keys.ensure_active_key_once(
            session, configured_private_key_pem=configured, now=system_clock()
        )
        return await mint_recorded_token(session, settings, request, key.private_key_pem.encode())

    return await _with_session(settings, run)
