"""Re-announce events from the outbox: after a broker lost what it had acknowledged.

Published rows are kept for the outbox retention (`outbox_retention_hours`). Marking rows
since a time unpublished makes the relay send them again, in their original order; every
consumer's inbox drops the ones it already handled, so re-announcing too much is safe.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.operator_audit import Operator, record_operator_action

PARKED_SHOWN = 50

if TYPE_CHECKING:  # the relay imports this module to requeue what a broker lost
    from shared.outbox import OutboxEventMixin


async def republish_since(
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: "type[OutboxEventMixin]",
    since: datetime,
    *,
    include_parked: bool = False,
    operator: Operator | None = None,
) -> int:
    """Queue every kept event created at or after `since` for publishing again; returns how many.

    With an `operator`, the audit row commits in the same transaction.
    """
    model = outbox_model
    condition = model.created_at >= since
    if not include_parked:
        condition = condition & model.parked_at.is_(None)
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(model).where(condition).values(published_at=None, parked_at=None, attempts=0)
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        if operator is not None:
            await record_operator_action(
                session,
                actor=operator.actor,
                action="outbox.republish",
                target=model.__tablename__,
                reason=operator.reason,
                details={
                    "since": since.isoformat(),
                    "include_parked": include_parked,
                    "queued": count,
                },
            )
    return count


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


async def outbox_status(
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: "type[OutboxEventMixin]",
    *,
    now: datetime,
) -> dict[str, Any]:
    """Backlog (unpublished, not parked), its oldest row's age, and parked rows with reasons."""
    model = outbox_model
    waiting = model.published_at.is_(None) & model.parked_at.is_(None)
    async with sessions() as session:
        backlog = await session.scalar(select(func.count()).where(waiting))
        oldest = _utc(await session.scalar(select(func.min(model.created_at)).where(waiting)))
        parked_count = await session.scalar(
            select(func.count()).where(model.parked_at.is_not(None))
        )
        parked = (
            await session.execute(
                select(
                    model.seq,
                    model.event_id,
                    model.event_type,
                    model.topic,
                    model.attempts,
                    model.parked_at,
                    model.last_error.label("reason"),
                )
                .where(model.parked_at.is_not(None))
                .order_by(model.seq)
                .limit(PARKED_SHOWN)
            )
        ).all()
    return {
        "backlog": int(backlog or 0),
        "oldest_unpublished_at": oldest.isoformat() if oldest else None,
        "oldest_unpublished_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
        "parked": int(parked_count or 0),
        "parked_rows": [{**row._asdict(), "parked_at": _utc(row.parked_at)} for row in parked],
    }


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite gives times back naive; every time stored is UTC.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


class StateAnnouncer(Protocol):
    """A service's re-announcement of its entities' whole current state (not kept events).

    For consumers to rebuild what they derive when the events themselves are gone (older than
    the outbox retention, or a consumer's database restored from an old backup). Writes the
    announcements to the outbox; returns how many entities were announced.
    """

    async def __call__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        received_since: datetime | None,
        locality_code: str | None,
    ) -> int: ...
