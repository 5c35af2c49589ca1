"""Use cases on partner clients: create, list, update, rotate, revoke, authenticate by secret.

Given an `Operator`, a change writes its `operator_action` row in the same transaction.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import credentials, repository
from services.gateway.models import Client
from shared.auth import KNOWN_SCOPES
from shared.input_rules import ORGANISATION_CODE_RULE, is_organisation_code
from shared.operator_audit import Operator, record_operator_action
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
    contact: str | None = None,
    operator: Operator | None = None,
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
        contact=_contact(contact),
    )
    async with session.begin():
        await repository.add_client(session, client)
        await _audit(session, operator, "clients.create", client, _settings_of(client))
    return IssuedCredentials(client, secret)


async def list_clients(session: AsyncSession) -> Sequence[Client]:
    async with session.begin():
        return await repository.list_clients(session)


@dataclass(frozen=True)
class ClientChanges:
    """What `update_client` changes; None leaves a field as it is."""

    scopes: str | Sequence[str] | None = None
    # (quota, window seconds), or (None, None) to go back to the gateway's default limit.
    rate_limit: tuple[int | None, int | None] | None = None
    contact: str | None = None


async def update_client(
    session: AsyncSession,
    *,
    client_id: str,
    changes: ClientChanges,
    operator: Operator | None = None,
) -> Client:
    """Change scopes, rate limit or contact; the gateway applies them to new requests."""
    new_scopes = None if changes.scopes is None else " ".join(parse_scopes(changes.scopes))
    if new_scopes == "":
        raise Unprocessable("A client needs at least one scope.", field="scopes")
    async with session.begin():
        client = await _existing(session, client_id)
        before = _settings_of(client)
        if new_scopes is not None:
            client.scopes = new_scopes
        if changes.rate_limit is not None:
            client.rate_limit_quota, client.rate_limit_window_s = changes.rate_limit
        if changes.contact is not None:
            client.contact = _contact(changes.contact)
        after = _settings_of(client)
        changed = {
            name: [before[name], after[name]] for name in after if before[name] != after[name]
        }
        if not changed:
            raise Unprocessable("Nothing to change: give --scopes, --rate-limit or --contact.")
        await _audit(session, operator, "clients.update", client, changed)
    return client


async def rotate_secret(
    session: AsyncSession, *, client_id: str, operator: Operator | None = None
) -> IssuedCredentials:
    """A new secret; the old one stops working at once."""
    secret = credentials.new_client_secret()
    secret_hash = await asyncio.to_thread(credentials.hash_secret, secret)
    async with session.begin():
        client = await _existing(session, client_id)
        client.secret_hash = secret_hash
        client.secret_rotated_at = datetime.now(UTC)
        await _audit(session, operator, "clients.rotate", client, {})
    return IssuedCredentials(client, secret)


async def revoke_client(
    session: AsyncSession, *, client_id: str, operator: Operator | None = None
) -> Client:
    """No new tokens, and tokens already issued are refused by the gateway within seconds."""
    async with session.begin():
        client = await _existing(session, client_id)
        already = client.revoked_at is not None
        client.revoked_at = client.revoked_at or datetime.now(UTC)
        if not already:
            await _audit(session, operator, "clients.revoke", client, {})
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


def _settings_of(client: Client) -> dict[str, Any]:
    """What an operator sets on a client, as recorded in the audit trail (never the secret)."""
    return {
        "scopes": client.scopes,
        "rate_limit_quota": client.rate_limit_quota,
        "rate_limit_window_s": client.rate_limit_window_s,
        "contact": client.contact,
    }


def _contact(contact: str | None) -> str | None:
    return (contact or "").strip() or None


async def _audit(
    session: AsyncSession,
    operator: Operator | None,
    action: str,
    client: Client,
    details: dict[str, Any],
) -> None:
    if operator is None:
        return
    await record_operator_action(
        session,
        actor=operator.actor,
        action=action,
        target=client.client_id,
        reason=operator.reason,
        details=details,
    )
