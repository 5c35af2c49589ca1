"""Idempotent event consumer: handle in one transaction with the inbox, then commit the offset.

- A record that cannot be decoded goes straight to the dead-letter topic.
- A handler that keeps failing on a record (a poison message) sends it to the dead-letter topic
  after `max_attempts`, so one bad event never blocks the partition.
- The database being unreachable is not the message's fault: those errors are retried until
  they clear, and the offset does not move.
- Unknown event types are skipped (consumers ignore what they do not understand).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics, telemetry, tracing
from shared.events import EventEnvelope, MalformedEvent, from_kafka_record
from shared.inbox import ProcessedEventMixin, claim_event
from shared.kafka import create_consumer, dead_letter_topic, partition_lag, start_with_retry
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
COMMIT_TIMEOUT_S = 5.0
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, OSError, TimeoutError)


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
    ) -> None:
        self.group_id = group_id
        self.topics = sorted(set(topics))
        self._handlers = dict(handlers)
        self._sessions = session_factory
        self._processed = processed_model
        self._producer = producer
        self._max_attempts = settings.kafka_consumer_max_attempts
        self._consumer: AIOKafkaConsumer = create_consumer(settings, self.topics, group_id)
        self._stop = asyncio.Event()
        self.started = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet consumed per (topic, partition) this consumer holds (for /metrics)."""
        return await partition_lag(self._consumer)

    async def run(self) -> None:
        if not await start_with_retry(self._consumer, f"consumer {self.group_id}", self._stop):
            return
        self.started.set()
        try:
            while not self._stop.is_set():
                batches = await self._consumer.getmany(timeout_ms=500)
                for partition, records in batches.items():
                    await self._process_partition(partition, records)
        finally:
            await self._consumer.stop()

    async def _process_partition(
        self, partition: TopicPartition, records: list[ConsumerRecord]
    ) -> None:
        for record in records:
            await self.process(record)
        try:
            # aiokafka retries a commit until it succeeds; never let that stall consumption.
            await asyncio.wait_for(
                self._consumer.commit({partition: records[-1].offset + 1}), COMMIT_TIMEOUT_S
            )
        except (CommitFailedError, KafkaError, TimeoutError) as error:
            # A lost commit only means redelivery, and the inbox drops what was processed.
            log.warning("offset commit for %s failed: %r", partition, error)

    async def process(self, record: ConsumerRecord) -> None:
        """Handle one record exactly once, or dead-letter it."""
        try:
            envelope = from_kafka_record(record.headers, record.value)
        except MalformedEvent as error:
            await self._dead_letter(record, f"malformed: {error}")
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
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
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply(envelope, handler)
                metrics.event_consumed(self.group_id, record.topic)
                return
            except INFRASTRUCTURE_ERRORS as error:
                if self._stop.is_set():
                    raise
                log.warning("database unavailable handling %s (%s); retrying", envelope.id, error)
                attempt = 0
                await asyncio.sleep(1.0)
            except Exception as error:
                metrics.event_failed(self.group_id, record.topic)
                if attempt >= self._max_attempts:
                    log.exception(
                        "event %s (%s) failed %d times", envelope.id, envelope.type, attempt
                    )
                    await self._dead_letter(
                        record, f"handler failed: {type(error).__name__}: {error}"
                    )
                    return
                await asyncio.sleep(0.1 * attempt)

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
        except DBAPIError as error:
            if error.connection_invalidated:
                raise OperationalError(str(error), None, error) from error
            raise

    async def _already_processed(self, envelope: EventEnvelope) -> bool:
        async with self._sessions() as session:
            return await session.get(self._processed, (self.group_id, envelope.id)) is not None

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason[:1000].encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self.group_id.encode()),
        ]
        metrics.event_dead_lettered(self.group_id, record.topic)
        log.error(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        while True:
            try:
                await self._producer.send_and_wait(
                    dead_letter_topic(self.group_id),
                    value=record.value,
                    key=record.key,
                    headers=headers,
                )
                return
            except KafkaError as error:
                if self._stop.is_set():
                    raise
                log.warning("cannot reach the dead-letter topic (%s); retrying", error)
                await asyncio.sleep(1.0)
