"""Re-announce events from the outbox: after a broker lost what it had acknowledged.

Published rows are kept for the outbox retention (`outbox_retention_hours`). Marking rows
since a time unpublished makes the relay send them again, in their original order; every
consumer's inbox drops the ones it already handled, so re-announcing too much is safe.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:  # the relay imports this module to requeue what a broker lost
    from shared.outbox import OutboxEventMixin


async def republish_since(
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: "type[OutboxEventMixin]",
    since: datetime,
    *,
    include_parked: bool = False,
) -> int:
    """Queue every kept event created at or after `since` for publishing again; returns how many."""
    model = outbox_model
    condition = model.created_at >= since
    if not include_parked:
        condition = condition & model.parked_at.is_(None)
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(model).where(condition).values(published_at=None, parked_at=None, attempts=0)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def republish_topics(
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: "type[OutboxEventMixin]",
    topics: Iterable[str],
) -> int:
    """Queue again every kept, published event of `topics` (the broker lost those topics)."""
    model = outbox_model
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(model)
            .where(
                model.topic.in_(sorted(topics)),
                model.published_at.is_not(None),
                model.parked_at.is_(None),
            )
            .values(published_at=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def oldest_kept_event(
    sessions: async_sessionmaker[AsyncSession], outbox_model: "type[OutboxEventMixin]"
) -> datetime | None:
    """The creation time of the oldest event still in the outbox: how far back a replay reaches."""
    async with sessions() as session:
        oldest = await session.scalar(select(func.min(outbox_model.created_at)))
    # SQLite gives an aggregate back as a naive time; every time stored is UTC.
    return oldest.replace(tzinfo=UTC) if oldest and oldest.tzinfo is None else oldest
