"""Idempotent event consumer: handle in one transaction with the inbox, then commit the offset.

- A record that cannot be decoded goes straight to the dead-letter topic.
- A handler that fails deterministically on a record (a poison message) sends it to the
  dead-letter topic after `max_attempts`, so one bad event never blocks the partition.
- A transient failure (database unreachable or refusing connections, serialization conflict,
  timeout; see `shared.failures`) is not the message's fault: it is retried with backoff until
  it clears, the offset does not move, and `health()` shows the consumer retrying.
- Unknown event types are skipped (consumers ignore what they do not understand).
- The records of one poll are applied in one transaction (one inbox query, one commit) when
  they all succeed; if any fails, the batch is rolled back and its records are applied one
  by one, so retries and dead letters concern single records.
- A service may give `BatchHooks`: its handlers then read what a batch needs in one query
  before it (`prefetch`) and do their once-per-batch work after it (`finish`), and the batch
  is flushed once, so its inserts go out together.
- A fetch position beyond the log end (the broker lost or recreated the topic) is reset to the
  earliest offset; the inbox drops what was already processed.
- An operator's pause (the `consumer_pause` table, `shared.consumer_pause`) is read every
  `pause_check_every_s`: paused partitions are not fetched, and records a poll returned for
  them are put back (seek), so a pause holds from the first poll after a restart.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics, telemetry, tracing
from shared.consumer_pause import PauseRules, is_paused, pause_rules
from shared.dead_letter import DeadLetterPublisher, StopRequested
from shared.events import EventEnvelope, MalformedEvent, from_kafka_record
from shared.failures import RetryState, describe, is_transient
from shared.inbox import ProcessedEventMixin, claim_event, claim_events
from shared.kafka import create_consumer, partition_lag, start_with_retry
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]


@dataclass(frozen=True)
class BatchHooks:
    """Once-per-poll steps around a batch applied in one transaction (never one by one).

    `prefetch` runs before the handlers with the batch's fresh events (load the rows they will
    touch in one query); `finish` runs after them, before the commit. Handlers given hooks do
    not need a flush between events: they find earlier events' effects in what `prefetch` set
    up, so the batch is flushed once.
    """

    prefetch: Callable[[AsyncSession, Sequence[EventEnvelope]], Awaitable[None]]
    finish: Callable[[AsyncSession], Awaitable[None]]


COMMIT_TIMEOUT_S = 5.0
# How often assigned partitions are checked for a position beyond the log end.
POSITION_CHECK_EVERY_S = 5.0
PRUNE_EVERY_S = 300.0
# One small query this often: a pause takes effect within it, and idling costs next to nothing.
PAUSE_CHECK_EVERY_S = 5.0


class EventConsumer:
    """Consumes topics for one consumer group and applies `handlers` by event type."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        group_id: str,
        topics: Iterable[str],
        handlers: Mapping[str, EventHandler],
        session_factory: async_sessionmaker[AsyncSession],
        processed_model: type[ProcessedEventMixin],
        producer: AIOKafkaProducer,
        batch_hooks: BatchHooks | None = None,
        pause_check_every_s: float = PAUSE_CHECK_EVERY_S,
    ) -> None:
        self.group_id = group_id
        self._hooks = batch_hooks
        self.topics = sorted(set(topics))
        self._handlers = dict(handlers)
        self._sessions = session_factory
        self._processed = processed_model
        self._max_attempts = settings.kafka_consumer_max_attempts
        self._batch = settings.kafka_consumer_batch
        self._stall_after_s = settings.kafka_consumer_stall_after_s
        self._inbox_retention = timedelta(hours=settings.inbox_retention_hours)
        self._consumer: AIOKafkaConsumer = create_consumer(settings, self.topics, group_id)
        self._stop = asyncio.Event()
        self.started = asyncio.Event()
        self.dead_letters = DeadLetterPublisher(
            producer, group_id, self._stop, retry_max_delay_s=settings.retry_max_delay_s
        )
        self.retry = RetryState(f"consumer {group_id}", log, max_delay_s=settings.retry_max_delay_s)
        self.state = "starting"
        self.handled = 0
        self.skipped = 0
        self.offset_resets = 0
        self._positions: dict[TopicPartition, int] = {}
        self._progress_at = time.monotonic()
        self._next_position_check = 0.0
        self._next_prune = 0.0
        self._pause_check_every_s = pause_check_every_s
        self._next_pause_check = 0.0
        self._pause_rules: PauseRules = frozenset()
        self.polls = 0

    def stop(self) -> None:
        self._stop.set()

    async def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet consumed per (topic, partition) this consumer holds (for /metrics)."""
        return await partition_lag(self._consumer)

    async def run(self) -> None:
        if not await start_with_retry(self._consumer, f"consumer {self.group_id}", self._stop):
            return
        self.started.set()
        self.state = "running"
        try:
            while not self._stop.is_set():
                await self._honour_pauses()
                batches = self._hold_back_paused(await self._consumer.getmany(timeout_ms=500))
                self.polls += 1
                done: dict[TopicPartition, int] = {}
                try:
                    for partition, records in batches.items():
                        await self._process_partition(partition, records)
                        done[partition] = records[-1].offset + 1
                finally:
                    # One commit for the poll's partitions: each commit is a broker round trip
                    # that the next poll would wait for.
                    await self._commit(done)
                await self._housekeeping()
        except StopRequested:
            pass
        finally:
            self.state = "stopped"
            await self._consumer.stop()

    async def _honour_pauses(self) -> None:
        """Re-read the operator's pauses when due; pause and resume assigned partitions to match."""
        now = time.monotonic()
        if now >= self._next_pause_check:
            self._next_pause_check = now + self._pause_check_every_s
            try:
                self._pause_rules = await pause_rules(self._sessions, self.group_id)
            except Exception as error:  # a database outage must not stop consumption
                log.warning(
                    "cannot read consumer pauses for %s: %s", self.group_id, describe(error)
                )
        assigned = self._consumer.assignment()
        wanted = {tp for tp in assigned if is_paused(self._pause_rules, tp.topic, tp.partition)}
        paused = self._consumer.paused()
        if wanted - paused:
            log.info("%s paused by an operator: %s", self.group_id, sorted(wanted - paused))
            self._consumer.pause(*(wanted - paused))
        if (paused & assigned) - wanted:
            log.info("%s resumed: %s", self.group_id, sorted((paused & assigned) - wanted))
            self._consumer.resume(*((paused & assigned) - wanted))

    def _hold_back_paused(
        self, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Records of a partition paused since the poll began (e.g. one just assigned) go back."""
        kept: dict[TopicPartition, list[ConsumerRecord]] = {}
        for partition, records in batches.items():
            if is_paused(self._pause_rules, partition.topic, partition.partition):
                self._consumer.seek(partition, records[0].offset)
                self._consumer.pause(partition)
            else:
                kept[partition] = records
        return kept

    async def _process_partition(
        self, partition: TopicPartition, records: list[ConsumerRecord]
    ) -> None:
        if self._batch and len(records) > 1 and await self._apply_batch(records):
            self._positions[partition] = records[-1].offset + 1
            self._progress_at = time.monotonic()
        else:
            for record in records:
                await self.process(record)
                self._positions[partition] = record.offset + 1
                self._progress_at = time.monotonic()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            # aiokafka retries a commit until it succeeds; never let that stall consumption.
            await asyncio.wait_for(self._consumer.commit(offsets), COMMIT_TIMEOUT_S)
        except (CommitFailedError, KafkaError, TimeoutError) as error:
            # A lost commit only means redelivery, and the inbox drops what was processed.
            log.warning("offset commit for %s failed: %r", sorted(offsets), error)

    async def process(self, record: ConsumerRecord) -> None:
        """Handle one record exactly once, or dead-letter it."""
        try:
            envelope = from_kafka_record(record.headers, record.value)
        except MalformedEvent as error:
            await self._dead_letter(record, f"malformed: {error}")
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            self.skipped += 1
            return
        tokens = tracing.bind(envelope.requestid, envelope.traceparent)
        try:
            with telemetry.processing(
                record.topic, envelope.id, envelope.type, envelope.traceparent
            ):
                await self._handle_with_retries(record, envelope, handler)
        finally:
            tracing.unbind(tokens)

    async def _handle_with_retries(
        self, record: ConsumerRecord, envelope: EventEnvelope, handler: EventHandler
    ) -> None:
        failures = 0
        while True:
            try:
                await self._apply(envelope, handler)
            except Exception as error:
                if self._stop.is_set():
                    raise StopRequested from error
                if is_transient(error):
                    # Not the record's fault: wait it out, however long, but visibly.
                    self.state = "retrying"
                    await self._sleep(self.retry.failed(error))
                    continue
                metrics.event_failed(self.group_id, record.topic)
                failures += 1
                if failures >= self._max_attempts:
                    log.exception(
                        "event %s (%s) failed %d times", envelope.id, envelope.type, failures
                    )
                    await self._dead_letter(record, f"handler failed: {describe(error)}")
                    return
                await self._sleep(0.1 * failures)
                continue
            self.retry.succeeded()
            self.state = "running"
            self.handled += 1
            metrics.event_consumed(self.group_id, record.topic)
            return

    async def _apply_batch(self, records: list[ConsumerRecord]) -> bool:
        """Apply a poll's records in one transaction; False (nothing applied) if any fails."""
        try:
            envelopes = [from_kafka_record(record.headers, record.value) for record in records]
        except MalformedEvent:
            return False
        known = [envelope for envelope in envelopes if envelope.type in self._handlers]
        try:
            async with self._sessions() as session, session.begin():
                fresh = await claim_events(session, self._processed, self.group_id, known)
                if self._hooks is not None:
                    await self._hooks.prefetch(session, fresh)
                for envelope in fresh:
                    tokens = tracing.bind(envelope.requestid, envelope.traceparent)
                    try:
                        with telemetry.processing(
                            envelope.topic, envelope.id, envelope.type, envelope.traceparent
                        ):
                            await self._handlers[envelope.type](session, envelope)
                            if self._hooks is None:
                                # Later events of the batch see this one's effect, as in its
                                # own commit.
                                await session.flush()
                    finally:
                        tracing.unbind(tokens)
                if self._hooks is not None:
                    await self._hooks.finish(session)
        except Exception as error:
            log.debug("batch of %d failed (%s); one by one", len(records), describe(error))
            return False
        self.retry.succeeded()
        self.state = "running"
        self.handled += len(fresh)
        self.skipped += len(envelopes) - len(known)
        for envelope in fresh:
            metrics.event_consumed(self.group_id, envelope.topic)
        return True

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        metrics.event_dead_lettered(self.group_id, record.topic)
        await self.dead_letters.publish(record, reason)

    async def _apply(self, envelope: EventEnvelope, handler: EventHandler) -> None:
        try:
            async with self._sessions() as session, session.begin():
                if not await claim_event(session, self._processed, self.group_id, envelope):
                    return
                await handler(session, envelope)
        except IntegrityError:
            if await self._already_processed(envelope):
                return
            raise

    async def _already_processed(self, envelope: EventEnvelope) -> bool:
        async with self._sessions() as session:
            return await session.get(self._processed, (self.group_id, envelope.id)) is not None

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_position_check:
            self._next_position_check = now + POSITION_CHECK_EVERY_S
            await self._reset_positions_beyond_log_end()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            with contextlib.suppress(Exception):
                await self.prune_processed_events()

    async def _reset_positions_beyond_log_end(self) -> None:
        """A position past the log end means the topic was recreated: start it over."""
        for partition in self._consumer.assignment():
            end = self._consumer.highwater(partition)
            if end is None:
                continue
            try:
                position = await self._consumer.position(partition)
            except KafkaError:
                continue
            if position > end:
                log.warning(
                    "%s: position %d is beyond the log end %d (topic recreated?); "
                    "resetting to the earliest offset",
                    partition,
                    position,
                    end,
                )
                self.offset_resets += 1
                self._positions.pop(partition, None)
                await self._consumer.seek_to_beginning(partition)

    async def prune_processed_events(self) -> int:
        """Forget processed event ids older than the retention (longer than the broker's)."""
        cutoff = datetime.now(UTC) - self._inbox_retention
        model = self._processed
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(model).where(
                    model.consumer_group == self.group_id, model.processed_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def health(self) -> dict[str, Any]:
        """The consumer's state as data: stalled when it cannot make progress on a backlog."""
        lag = self._lag()
        paused = self._paused()
        # A backlog an operator paused is held on purpose, not stalled.
        held = {f"{tp.topic}[{tp.partition}]" for tp in paused}
        backlog = sum(count for name, count in lag.items() if name not in held)
        idle_s = time.monotonic() - self._progress_at
        retrying_s = self.retry.health().get("failing_for_s", 0.0)
        stalled = retrying_s > self._stall_after_s or (backlog > 0 and idle_s > self._stall_after_s)
        return {
            "group": self.group_id,
            "state": "stalled" if stalled and self.state != "stopped" else self.state,
            "paused": sorted(held),
            "handled": self.handled,
            "skipped": self.skipped,
            "offset_resets": self.offset_resets,
            "lag": lag,
            "seconds_since_progress": round(idle_s, 1),
            "retry": self.retry.health(),
            "dead_letters": self.dead_letters.health(),
        }

    def _paused(self) -> set[TopicPartition]:
        with contextlib.suppress(Exception):
            return set(self._consumer.paused())
        return set()

    def _lag(self) -> dict[str, int]:
        lag: dict[str, int] = {}
        with contextlib.suppress(Exception):
            for partition in self._consumer.assignment():
                end = self._consumer.highwater(partition)
                done = self._positions.get(partition)
                if end is not None and done is not None:
                    lag[f"{partition.topic}[{partition.partition}]"] = max(end - done, 0)
        return lag
