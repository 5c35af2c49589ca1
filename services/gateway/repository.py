"""Every query of the gateway's own database."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Client, SigningKey


async def add_client(session: AsyncSession, client: Client) -> None:
    session.add(client)


async def get_client(session: AsyncSession, client_id: str) -> Client | None:
    return await session.get(Client, client_id)


async def list_clients(session: AsyncSession) -> Sequence[Client]:
    result = await session.execute(select(Client).order_by(Client.created_at, Client.client_id))
    return result.scalars().all()


async def client_policies(
    session: AsyncSession,
) -> Sequence[tuple[str, int | None, int | None, bool]]:
    """(client id, quota, window, revoked) of every client: what the hot path needs to know."""
    result = await session.execute(
        select(
            Client.client_id,
            Client.rate_limit_quota,
            Client.rate_limit_window_s,
            Client.revoked_at.is_not(None),
        )
    )
    return [(row[0], row[1], row[2], bool(row[3])) for row in result.all()]


async def add_signing_key(session: AsyncSession, key: SigningKey) -> None:
    session.add(key)


async def active_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    """The active keys, newest first (one, unless two rotations raced)."""
    result = await session.execute(
        select(SigningKey)
        .where(SigningKey.state == "active")
        .order_by(SigningKey.created_at.desc())
        .with_for_update()
    )
    return result.scalars().all()


async def list_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    result = await session.execute(
        select(SigningKey).order_by(SigningKey.state, SigningKey.created_at.desc(), SigningKey.kid)
    )
    return result.scalars().all()


async def verifying_signing_keys(session: AsyncSession, *, now: datetime) -> Sequence[SigningKey]:
    """The active keys and the retired ones whose tokens may still be alive, newest first."""
    result = await session.execute(
        select(SigningKey)
        .where((SigningKey.state == "active") | (SigningKey.verify_until > now))
        # "active" sorts before "retired".
        .order_by(SigningKey.state, SigningKey.created_at.desc(), SigningKey.kid)
    )
    return result.scalars().all()


async def clients_revoked_since(session: AsyncSession, since: datetime) -> Sequence[str]:
    """Ids of clients revoked at or after `since`: those whose tokens may still be alive."""
    result = await session.execute(
        select(Client.client_id).where(Client.revoked_at >= since).order_by(Client.client_id)
    )
    return result.scalars().all()
