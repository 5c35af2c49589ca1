"""Dead-letter publishing: the record and why, or a truncated copy when the record cannot go.

A record goes to `<group>.dead-letter` with `dlq_*` headers giving its coordinates and the
reason. A broker that is down is waited out (with backoff, a count and a visible state); an
error that will never clear (the record is larger than the broker or the producer accepts) is
not retried: a truncated copy with the coordinates and the original size goes instead, and if
even that is refused the record is logged and counted as dropped, never retried forever.
"""

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.failures import RetryState, describe, is_transient
from shared.kafka import dead_letter_topic

log = logging.getLogger(__name__)

# Comfortably under the producer's and Kafka's default 1 MiB limits.
TRUNCATED_VALUE_BYTES = 64 * 1024
TRUNCATED_HEADER_BYTES = 1024


class StopRequested(Exception):
    """The owner is stopping: leave the record unacknowledged so it is redelivered."""


class DeadLetterPublisher:
    """Sends records a consumer group gives up on to its dead-letter topic."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        group_id: str,
        stop: asyncio.Event,
        *,
        retry_max_delay_s: float = 10.0,
    ) -> None:
        self.topic = dead_letter_topic(group_id)
        self._producer = producer
        self._group_id = group_id
        self._stop = stop
        self.retry = RetryState(
            f"dead-letter publish to {self.topic}", log, max_delay_s=retry_max_delay_s
        )
        self.sent = 0
        self.truncated = 0
        self.dropped = 0

    async def publish(self, record: ConsumerRecord, reason: str) -> None:
        """Dead-letter `record`; returns once it (or its truncated copy) is on the topic."""
        log.error(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        value, key, headers = record.value, record.key, self._full_headers(record, reason)
        truncated = False
        while True:
            try:
                await self._producer.send_and_wait(
                    self.topic, value=value, key=key, headers=headers
                )
                self.retry.succeeded()
                self.sent += 1
                self.truncated += truncated
                return
            except Exception as error:
                if self._stop.is_set():
                    raise StopRequested from error
                if is_transient(error):
                    await self._sleep(self.retry.failed(error))
                    continue
                if truncated:
                    log.error(
                        "cannot dead-letter even a truncated copy of %s[%d]@%d (%s); dropped",
                        record.topic,
                        record.partition,
                        record.offset,
                        describe(error),
                    )
                    self.dropped += 1
                    return
                log.warning("dead letter refused (%s); sending a truncated copy", describe(error))
                value, key, headers = truncated_copy(record, reason, self._group_id, error)
                truncated = True

    def _full_headers(self, record: ConsumerRecord, reason: str) -> list[tuple[str, bytes]]:
        return [*(record.headers or ()), *coordinates(record, reason, self._group_id)]

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def health(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "truncated": self.truncated,
            "dropped": self.dropped,
            **self.retry.health(),
        }


def coordinates(record: ConsumerRecord, reason: str, group_id: str) -> list[tuple[str, bytes]]:
    """Where the record came from and why it is a dead letter."""
    return [
        ("dlq_reason", reason[:1000].encode()),
        ("dlq_source_topic", record.topic.encode()),
        ("dlq_source_partition", str(record.partition).encode()),
        ("dlq_source_offset", str(record.offset).encode()),
        ("dlq_source_size", str(record_size(record)).encode()),
        ("dlq_consumer_group", group_id.encode()),
    ]


def record_size(record: ConsumerRecord) -> int:
    """Bytes of key, value and headers as the record came off the wire."""
    return sum(
        max(size or 0, 0)
        for size in (
            record.serialized_key_size,
            record.serialized_value_size,
            getattr(record, "serialized_header_size", 0),
        )
    )


def truncated_copy(
    record: ConsumerRecord, reason: str, group_id: str, refusal: BaseException
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """A copy small enough to publish: the head of the value, the CloudEvents headers, cut."""
    kept = [
        (name, value[:TRUNCATED_HEADER_BYTES])
        for name, value in record.headers or ()
        if name.startswith("ce_")
    ]
    headers = [
        *kept,
        *coordinates(record, reason, group_id),
        ("dlq_truncated", b"true"),
        ("dlq_refused", describe(refusal).encode()[:TRUNCATED_HEADER_BYTES]),
    ]
    value = record.value[:TRUNCATED_VALUE_BYTES] if record.value is not None else None
    key = record.key[:TRUNCATED_HEADER_BYTES] if record.key is not None else None
    return value, key, headers
