"""Every query of the gateway's own database."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Client


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
