"""Transactional outbox: events are rows written with the change, and a relay publishes them.

A use case calls `add_event(session, OutboxEvent, envelope)` (its service's outbox table) before
it commits; the event row and the domain change commit together or not at all. `OutboxRelay`
polls for unpublished rows in insertion order, sends them, waits for the broker's acknowledgement
and only then marks them published. A crash between send and mark republishes the same event
id, which consumers' inboxes ignore.

Order per key: one relay per database publishes (`shared.relay_leader`), rows are read and
marked in short transactions (no lock is held while the broker is awaited), and a key whose
oldest row failed waits behind it. A broker outage is waited out without touching the rows; a
row the broker refuses counts an attempt and is parked after `max_attempts` with its reason,
so the rows of other keys go on. Published rows are kept for `retention` so that
`shared.outbox_replay` can re-announce them.

`wake_relay_after_commit` lets a commit that staged events wake the relay at once instead of
waiting for the next poll; a commit that staged none (the relay's own included) wakes nothing,
so an idle service sleeps between polls.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from aiokafka import AIOKafkaProducer
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
from shared.events import EventEnvelope, encode_data, to_kafka_headers
from shared.failures import RetryState, describe, is_transient
from shared.outbox_replay import republish_topics
from shared.relay_leader import RelayLeadership

log = logging.getLogger(__name__)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceType = BigInteger().with_variant(Integer(), "sqlite")
PURGE_EVERY = timedelta(minutes=5)
# Topics are re-checked this often, and at once after any failure to publish.
TOPIC_CHECK_EVERY_S = 60.0
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
    # Failures that were the row's own fault (the broker refuses the record), not outages.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when the row failed `max_attempts` times: it is no longer sent, and its key goes on.
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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
    """Publishes a service's outbox rows to Kafka, in order per key, until stopped."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        outbox_model: type[OutboxEventMixin],
        producer: AIOKafkaProducer,
        *,
        poll_interval_s: float = 0.5,
        batch_size: int = 200,
        retention: timedelta = timedelta(hours=72),
        max_attempts: int = 5,
        ensure_topics: Callable[[], Awaitable[set[str]]] | None = None,
        retry_max_delay_s: float = 10.0,
    ) -> None:
        self._sessions = session_factory
        self._model = outbox_model
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._retention = retention
        self._max_attempts = max_attempts
        # Re-creates missing topics with the configured partitions after a broker restart.
        self._ensure_topics = ensure_topics
        self._leadership = RelayLeadership(session_factory.kw["bind"], outbox_model.__tablename__)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._next_purge_at = utcnow()
        self._topics_due = True
        self._next_topic_check = 0.0
        self.retry = RetryState("outbox relay", log, max_delay_s=retry_max_delay_s)
        # `run` records a pass's outcome while the next pass reads and sends.
        self._marking: Marking | None = None
        # Passes through the publish loop since start; an idle relay adds one per poll interval.
        self.passes = 0
        self.published = 0
        self.parked = 0

    def notify(self) -> None:
        """Publish soon: called after a use case commits an event, to skip the poll wait."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        try:
            while not self._stop.is_set():
                self.passes += 1
                delay = self._poll_interval_s
                try:
                    await self._ensure_topics_if_due()
                    published = await self._publish_overlapped()
                    await self._purge_published_if_due()
                    self.retry.succeeded()
                    if published >= self._batch_size:
                        continue
                except Exception as error:
                    # A broker back from an outage may have lost its topics: check them first.
                    self._topics_due = True
                    delay = self.retry.failed(error)
                await self._wait(delay)
        finally:
            with contextlib.suppress(Exception):  # unmarked rows go again: inboxes drop them
                await self._finish_marking()
            await self.close()

    async def close(self) -> None:
        """Give up the relay's leadership (its lock connection); `run` does it when stopped."""
        await self._leadership.release()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many were published.

        Raises the broker's error when it is unavailable, after recording what did go out.
        """
        if not await self._leadership.ensure():
            return 0
        async with self._sessions() as session:
            async with session.begin():
                rows = (await session.scalars(self._pending())).all()
            outcome = await self._send(rows)
            async with session.begin():
                await self._record(session, outcome)
        if outcome.outage is not None:
            raise outcome.outage
        return len(outcome.published)

    async def _publish_overlapped(self) -> int:
        """`publish_pending`, but a pass's outcome is recorded while the next pass reads and sends.

        Recording waits for a write turn behind the service's requests: on SQLite at 100
        referrals/s most of a pass (bench.event_path). Rows sent but not yet recorded are
        skipped and the keys of refused rows not yet counted are held, so the next pass never
        sends a row twice nor a key out of order. If recording fails, its rows go again later
        (as after a crash between send and mark), and consumers' inboxes drop them.
        """
        if not await self._leadership.ensure():
            return 0
        async with self._sessions() as session, session.begin():
            rows = (await session.scalars(self._pending())).all()
        previous = self._marking
        if previous is not None:
            rows = [row for row in rows if row.seq not in previous.seqs]
        outcome = await self._send(rows, previous.refused_keys if previous else ())
        await self._finish_marking()
        self._marking = Marking(
            asyncio.create_task(self._mark(outcome)),
            seqs={*outcome.published, *(row.seq for row, _ in outcome.refused)},
            refused_keys={(row.topic, row.key) for row, _ in outcome.refused},
        )
        if outcome.outage is not None:
            raise outcome.outage
        return len(outcome.published)

    async def _mark(self, outcome: "SendOutcome") -> None:
        async with self._sessions() as session, session.begin():
            await self._record(session, outcome)

    async def _finish_marking(self) -> None:
        """Wait for the previous pass's outcome to be recorded; raises what recording raised."""
        marking, self._marking = self._marking, None
        if marking is not None:
            await marking.task

    def _pending(self):  # type: ignore[no-untyped-def]
        model = self._model
        return (
            select(model)
            .where(model.published_at.is_(None), model.parked_at.is_(None))
            .order_by(model.seq)
            .limit(self._batch_size)
        )

    async def _send(
        self, rows: Sequence[OutboxEventMixin], holding: Iterable[tuple[str, str | None]] = ()
    ) -> "SendOutcome":
        """Send rows in order; a key in `holding` (or whose older row failed) is not sent."""
        outcome = SendOutcome()
        sent: list[tuple[OutboxEventMixin, asyncio.Future[Any]]] = []
        held: set[tuple[str, str | None]] = set(holding)
        with telemetry.publishing(rows) as headers_of:
            for row in rows:
                key = (row.topic, row.key)
                if key in held:
                    continue  # an older row of this key has not gone yet: keep the order
                if row.attempts > 0:
                    held.add(key)
                topic, value, record_key, *_ = record_of(row)
                try:
                    future = await self._producer.send(
                        topic, value=value, key=record_key, headers=headers_of(row)
                    )
                    sent.append((row, future))
                except Exception as error:
                    held.add(key)
                    if is_transient(error):
                        outcome.outage = error
                        break
                    outcome.refused.append((row, error))
            results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
        published = []
        for (row, _), result in zip(sent, results, strict=True):
            if not isinstance(result, BaseException):
                outcome.published.append(row.seq)
                published.append(row)
            elif is_transient(result):
                outcome.outage = outcome.outage or result
            else:
                outcome.refused.append((row, result))
        metrics.events_published(published)
        return outcome

    async def _record(self, session: AsyncSession, outcome: "SendOutcome") -> None:
        model = self._model
        now = utcnow()
        if outcome.published:
            await session.execute(
                update(model).where(model.seq.in_(outcome.published)).values(published_at=now)
            )
            self.published += len(outcome.published)
        for row, error in outcome.refused:
            attempts = row.attempts + 1
            park = attempts >= self._max_attempts
            await session.execute(
                update(model)
                .where(model.seq == row.seq)
                .values(
                    attempts=attempts,
                    last_error=describe(error),
                    parked_at=now if park else None,
                )
            )
            if park:
                self.parked += 1
                log.error(
                    "outbox event %s (%s) parked after %d attempts: %s",
                    row.event_id,
                    row.event_type,
                    attempts,
                    describe(error),
                )

    async def _ensure_topics_if_due(self) -> None:
        if not self._topics_due and time.monotonic() < self._next_topic_check:
            return
        await self.check_topics()

    async def check_topics(self) -> None:
        """Re-create missing topics; events kept for a topic the broker lost are sent again."""
        if self._ensure_topics is None:
            return
        created = await self._ensure_topics()
        self._topics_due = False
        self._next_topic_check = time.monotonic() + TOPIC_CHECK_EVERY_S
        if not created:
            return
        requeued = await republish_topics(self._sessions, self._model, created)
        if requeued:
            # Consumers' inboxes drop whatever they had already handled.
            log.warning(
                "the broker had lost %s: %d kept events queued to publish again",
                ", ".join(sorted(created)),
                requeued,
            )

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

    def health(self) -> dict[str, Any]:
        """The relay as data: whether it leads, what it sent and parked, whether it retries."""
        return {
            "leading": self._leadership.leading,
            "published": self.published,
            "parked": self.parked,
            "retry": self.retry.health(),
        }


@dataclass
class Marking:
    """A pass's outcome being recorded: its rows (sent, not yet marked) and refused keys."""

    task: "asyncio.Task[None]"
    seqs: set[int]
    refused_keys: set[tuple[str, str | None]]


@dataclass
class SendOutcome:
    """What one pass achieved: rows acknowledged, rows refused, and a broker outage if any."""

    published: list[int] = field(default_factory=list)
    refused: list[tuple[OutboxEventMixin, BaseException]] = field(default_factory=list)
    outage: BaseException | None = None


def record_of(row: OutboxEventMixin) -> tuple[str, bytes, bytes | None, None, None, list]:
    """The producer.send arguments for a row: topic, value, key, partition, timestamp, headers."""
    headers = [(name, value.encode()) for name, value in orjson.loads(row.headers)]
    return row.topic, row.payload, row.key.encode() if row.key else None, None, None, headers
