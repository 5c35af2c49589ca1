"""`python -m services.gateway serve|migrate|revision|clients ...|keys rotate|list|token mint`."""

import argparse
import asyncio
import getpass
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
from shared.problems import Problem


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.gateway")
    commands = add_service_commands(parser)

    client_commands = commands.add_parser("clients", help="partner clients").add_subparsers(
        dest="action", required=True
    )
    create = client_commands.add_parser("create", help="register a client; prints its secret")
    create.add_argument("--name", required=True, help="the partner system, e.g. 'Police RMS'")
    create.add_argument("--org", required=True, help="organisation code carried in its tokens")
    create.add_argument("--scopes", required=True, help="space-separated scopes")
    create.add_argument("--rate-limit", help="QUOTA/WINDOW_SECONDS, e.g. 600/60")
    client_commands.add_parser("list", help="every client (never secrets)")
    rotate = client_commands.add_parser("rotate", help="new secret; the old stops working")
    rotate.add_argument("client_id")
    revoke = client_commands.add_parser("revoke", help="no more tokens for this client")
    revoke.add_argument("client_id")

    keys = commands.add_parser("keys", help="token signing keys").add_subparsers(
        dest="action", required=True
    )
    keys_rotate = keys.add_parser(
        "rotate",
        help="a new active signing key; the old one verifies tokens until the last it signed "
        "expires (running gateways pick it up within GATEWAY_SIGNING_KEYS_REFRESH_S)",
    )
    keys_rotate.add_argument("--actor", default=_operator(), help="who rotates (recorded)")
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
    mint.add_argument("--by", default=_operator(), help="who mints it (recorded)")
    mint.add_argument(
        "--allow-in-production",
        action="store_true",
        help="mint even when ENVIRONMENT=production (OAuth client credentials are the norm)",
    )
    return parser


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
    else:
        try:
            result = asyncio.run(_with_session(settings, _client_action(args)))
        except Problem as problem:
            sys.stderr.write(f"error: {problem.detail}\n")
            return 1
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def _client_action(args: argparse.Namespace) -> Callable[[AsyncSession], Awaitable[Any]]:
    async def run(session: AsyncSession) -> Any:
        if args.action == "create":
            quota, window = _rate_limit(args.rate_limit)
            issued = await clients.create_client(
                session,
                name=args.name,
                organisation=args.org,
                scopes=args.scopes,
                rate_limit_quota=quota,
                rate_limit_window_s=window,
            )
            return {**_describe(issued.client), "client_secret": issued.secret}
        if args.action == "list":
            return [_describe(client) for client in await clients.list_clients(session)]
        if args.action == "rotate":
            issued = await clients.rotate_secret(session, client_id=args.client_id)
            return {**_describe(issued.client), "client_secret": issued.secret}
        return _describe(await clients.revoke_client(session, client_id=args.client_id))

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


def _rate_limit(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    quota, _, window = text.partition("/")
    if not quota.isdigit() or not window.isdigit() or int(quota) < 1 or int(window) < 1:
        raise SystemExit("--rate-limit must be QUOTA/WINDOW_SECONDS, e.g. 600/60")
    return int(quota), int(window)


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


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container
        return ""
