"""Processed-event inbox: a consumer's effect and the event id commit in one transaction."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.events import EventEnvelope


class ProcessedEventMixin:
    """Columns of a service's `processed_event` table; mix into the service's declarative Base."""

    __tablename__ = "processed_event"

    consumer_group: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        # Pruning deletes by age (EventConsumer.prune_processed_events).
        return (Index("ix_processed_event_processed_at", "processed_at"),)


async def claim_event(
    session: AsyncSession,
    processed_model: type[ProcessedEventMixin],
    consumer_group: str,
    envelope: EventEnvelope,
) -> bool:
    """Record the event as processed in this transaction; False if it already was."""
    already = await session.scalar(
        select(processed_model.event_id).where(
            processed_model.consumer_group == consumer_group,
            processed_model.event_id == envelope.id,
        )
    )
    if already is not None:
        return False
    session.add(
        cast(Any, processed_model)(
            consumer_group=consumer_group,
            event_id=envelope.id,
            event_type=envelope.type,
            processed_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return True


async def claim_events(
    session: AsyncSession,
    processed_model: type[ProcessedEventMixin],
    consumer_group: str,
    envelopes: Sequence[EventEnvelope],
) -> list[EventEnvelope]:
    """Record a batch as processed in this transaction; returns those not processed before.

    One query for the whole batch instead of one per event; an event twice in the batch is
    returned once.
    """
    ids = list(dict.fromkeys(envelope.id for envelope in envelopes))
    done = set(
        (
            await session.scalars(
                select(processed_model.event_id).where(
                    processed_model.consumer_group == consumer_group,
                    processed_model.event_id.in_(ids),
                )
            )
        ).all()
    )
    fresh: list[EventEnvelope] = []
    for envelope in envelopes:
        if envelope.id in done:
            continue
        done.add(envelope.id)
        fresh.append(envelope)
    now = datetime.now(UTC)
    session.add_all(
        cast(Any, processed_model)(
            consumer_group=consumer_group,
            event_id=envelope.id,
            event_type=envelope.type,
            processed_at=now,
        )
        for envelope in fresh
    )
    await session.flush()
    return fresh
