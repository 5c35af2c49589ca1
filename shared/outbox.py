"""Transactional outbox: events are rows written with the change, and a relay publishes them.

A use case calls `add_event(session, envelope)` before it commits; the event row and the domain
change commit together or not at all. `OutboxRelay` polls for unpublished rows in insertion order,
sends them, waits for the broker's acknowledgement and only then marks them published. A crash
between send and mark republishes the same event id, which consumers' inboxes ignore.

`wake_relay_after_commit` lets a commit that staged events wake the relay at once instead of
waiting for the next poll; a commit that staged none (the relay's own included) wakes nothing,
so an idle service sleeps between polls.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, SessionTransaction, declared_attr, mapped_column

from shared import metrics, telemetry
from shared.db import dialect_name
from shared.events import EventEnvelope, encode_data, to_kafka_headers

log = logging.getLogger(__name__)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceType = BigInteger().with_variant(Integer(), "sqlite")
PURGE_EVERY = timedelta(minutes=5)
# Set in a session's `info` by add_event; read and cleared when its transaction ends.
STAGED_EVENTS_FLAG = "outbox_events_staged"


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxEventMixin:
    """Columns of a service's `outbox_event` table; mix into the service's declarative Base."""

    __tablename__ = "outbox_event"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    headers: Mapped[bytes] = mapped_column(LargeBinary)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (Index("ix_outbox_event_unpublished", "published_at", "seq"),)


def add_event(
    session: AsyncSession, outbox_model: type[OutboxEventMixin], envelope: EventEnvelope
) -> None:
    """Stage an event in the caller's transaction."""
    session.add(outbox_row(outbox_model, envelope))
    session.info[STAGED_EVENTS_FLAG] = True


def outbox_row(outbox_model: type[OutboxEventMixin], envelope: EventEnvelope) -> OutboxEventMixin:
    """The row that will become the Kafka record: topic, key, CloudEvents headers, JSON value."""
    # The mixin has no typed constructor; the concrete model class built from it does.
    return cast(Any, outbox_model)(
        event_id=envelope.id,
        topic=envelope.topic,
        key=envelope.subject,
        event_type=envelope.type,
        headers=orjson.dumps([[k, v.decode()] for k, v in to_kafka_headers(envelope)]),
        payload=encode_data(envelope),
        created_at=envelope.time,
        attempts=0,
    )


def wake_relay_after_commit(session_class: type[Session], relay: "OutboxRelay") -> None:
    """Notify `relay` when a session of `session_class` commits a transaction that staged events."""

    def after_commit(session: Session) -> None:
        if session.info.pop(STAGED_EVENTS_FLAG, False):
            relay.notify()

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        # A rolled-back transaction's staged events are gone: forget the flag with them.
        if transaction.parent is None:
            session.info.pop(STAGED_EVENTS_FLAG, None)

    orm_event.listen(session_class, "after_commit", after_commit)
    orm_event.listen(session_class, "after_transaction_end", after_transaction_end)


class OutboxRelay:
    """Publishes a service's outbox rows to Kafka, in order, until stopped."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        outbox_model: type[OutboxEventMixin],
        producer: AIOKafkaProducer,
        *,
        poll_interval_s: float = 0.5,
        batch_size: int = 200,
        retention: timedelta = timedelta(hours=72),
    ) -> None:
        self._sessions = session_factory
        self._model = outbox_model
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._retention = retention
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._next_purge_at = utcnow()
        # Passes through the publish loop since start; an idle relay adds one per poll interval.
        self.passes = 0

    def notify(self) -> None:
        """Publish soon: called after a use case commits an event, to skip the poll wait."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        backoff = self._poll_interval_s
        while not self._stop.is_set():
            self.passes += 1
            try:
                published = await self.publish_pending()
                await self._purge_published_if_due()
                backoff = self._poll_interval_s
                if published >= self._batch_size:
                    continue
            except KafkaError as error:
                log.warning("outbox relay cannot publish (%s); retrying in %.1fs", error, backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception:
                log.exception("outbox relay failed; retrying")
                backoff = min(backoff * 2, 10.0)
            await self._wait(backoff)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many were published."""
        async with self._sessions() as session:
            if dialect_name(session) == "postgresql":
                # Several instances may relay at once: row locks make each take different rows.
                async with session.begin():
                    rows = (
                        await session.scalars(self._pending().with_for_update(skip_locked=True))
                    ).all()
                    error = await self._send_all(rows)
                    await self._record_outcome(session, rows, error)
            else:
                # SQLite has one writer: never hold its lock while waiting on the broker.
                async with session.begin():
                    rows = (await session.scalars(self._pending())).all()
                error = await self._send_all(rows)
                async with session.begin():
                    await self._record_outcome(session, rows, error)
        if error is not None:
            raise error
        return len(rows)

    def _pending(self):  # type: ignore[no-untyped-def]
        model = self._model
        return (
            select(model)
            .where(model.published_at.is_(None))
            .order_by(model.seq)
            .limit(self._batch_size)
        )

    async def _send_all(self, rows: Sequence[OutboxEventMixin]) -> KafkaError | None:
        try:
            with telemetry.publishing(rows) as headers_of:
                futures = [
                    await self._producer.send(
                        row.topic,
                        value=row.payload,
                        key=row.key.encode() if row.key else None,
                        headers=headers_of(row),
                    )
                    for row in rows
                ]
                await asyncio.gather(*futures)
        except KafkaError as error:
            return error
        metrics.events_published(rows)
        return None

    async def _record_outcome(
        self, session: AsyncSession, rows: Sequence[OutboxEventMixin], error: KafkaError | None
    ) -> None:
        if not rows:
            return
        seqs = [row.seq for row in rows]
        model = self._model
        values = (
            {"published_at": utcnow()}
            if error is None
            else {"attempts": model.attempts + 1, "last_error": str(error)[:2000]}
        )
        await session.execute(update(model).where(model.seq.in_(seqs)).values(**values))

    async def _purge_published_if_due(self) -> None:
        """Delete rows published longer ago than the retention, at most every few minutes."""
        if utcnow() < self._next_purge_at:
            return
        self._next_purge_at = utcnow() + PURGE_EVERY
        cutoff = utcnow() - self._retention
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(self._model).where(
                    self._model.published_at.is_not(None), self._model.published_at < cutoff
                )
            )

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
