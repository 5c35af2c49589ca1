"""Use cases on partner clients: create, list, rotate, revoke, and authenticate by secret."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import credentials, repository
from services.gateway.models import Client
from shared.auth import KNOWN_SCOPES
from shared.input_rules import ORGANISATION_CODE_RULE, is_organisation_code
from shared.problems import NotFound, Unprocessable

# Compared against when the client id is unknown, so a wrong id costs as long as a wrong secret.
_DUMMY_HASH = credentials.hash_secret("not-a-client")


class InvalidClient(Exception):
    """Unknown client, wrong secret or revoked client: one answer for all (no oracle)."""


@dataclass(frozen=True)
class IssuedCredentials:
    client: Client
    secret: str


def parse_scopes(scopes: str | Sequence[str]) -> list[str]:
    """Split, deduplicate and check scopes against the known set."""
    names = scopes.split() if isinstance(scopes, str) else list(scopes)
    unknown = sorted(set(names) - KNOWN_SCOPES)
    if unknown:
        raise Unprocessable(
            f"Unknown scopes: {', '.join(unknown)}.",
            errors=[{"field": "scope", "message": f"unknown scope {name!r}"} for name in unknown],
        )
    return sorted(set(names))


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    organisation: str,
    scopes: str | Sequence[str],
    rate_limit_quota: int | None = None,
    rate_limit_window_s: int | None = None,
) -> IssuedCredentials:
    if not name.strip() or not organisation.strip():
        raise Unprocessable("A client needs a name and an organisation.")
    if not parse_scopes(scopes):
        raise Unprocessable("A client needs at least one scope.", field="scopes")
    if not is_organisation_code(organisation.strip()):
        raise Unprocessable(
            f"'{organisation}' is not an organisation code: {ORGANISATION_CODE_RULE}.",
            field="organisation",
        )
    if (rate_limit_quota is None) != (rate_limit_window_s is None):
        raise Unprocessable("Give both the rate-limit quota and its window, or neither.")
    secret = credentials.new_client_secret()
    now = datetime.now(UTC)
    client = Client(
        client_id=credentials.new_client_id(),
        name=name.strip(),
        organisation=organisation.strip(),
        scopes=" ".join(parse_scopes(scopes)),
        secret_hash=await asyncio.to_thread(credentials.hash_secret, secret),
        rate_limit_quota=rate_limit_quota,
        rate_limit_window_s=rate_limit_window_s,
        created_at=now,
        secret_rotated_at=now,
        revoked_at=None,
    )
    async with session.begin():
        await repository.add_client(session, client)
    return IssuedCredentials(client, secret)


async def list_clients(session: AsyncSession) -> Sequence[Client]:
    async with session.begin():
        return await repository.list_clients(session)


async def rotate_secret(session: AsyncSession, *, client_id: str) -> IssuedCredentials:
    """A new secret; the old one stops working at once."""
    secret = credentials.new_client_secret()
    secret_hash = await asyncio.to_thread(credentials.hash_secret, secret)
    async with session.begin():
        client = await _existing(session, client_id)
        client.secret_hash = secret_hash
        client.secret_rotated_at = datetime.now(UTC)
    return IssuedCredentials(client, secret)


async def revoke_client(session: AsyncSession, *, client_id: str) -> Client:
    """No new tokens, and tokens already issued are refused by the gateway within seconds."""
    async with session.begin():
        client = await _existing(session, client_id)
        client.revoked_at = client.revoked_at or datetime.now(UTC)
    return client


async def authenticate_client(session: AsyncSession, *, client_id: str, secret: str) -> Client:
    async with session.begin():
        client = await repository.get_client(session, client_id)
    stored = client.secret_hash if client is not None else _DUMMY_HASH
    matches = await asyncio.to_thread(credentials.verify_secret, secret, stored)
    if client is None or not matches or client.revoked_at is not None:
        raise InvalidClient(client_id)
    return client


async def _existing(session: AsyncSession, client_id: str) -> Client:
    client = await repository.get_client(session, client_id)
    if client is None:
        raise NotFound(f"No client {client_id!r}.")
    return client
