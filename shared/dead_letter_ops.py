"""Operating a dead-letter topic: read it, decode a record, replay records, dispose of them.

Records are read straight from `<group>.dead-letter` (no consumer group, nothing committed).
Replaying sends a record's key, value and original headers (without the `dlq_*` ones) back to
the topic it came from; the consumers' inbox makes a replay of an event already applied a
no-op. A replayed or discarded record is recorded in `dead_letter_disposal`, so `list` hides it.
"""

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.kafka import dead_letter_topic
from shared.operator_audit import Operator, dead_letter_disposal, record_operator_action
from shared.settings import ServiceSettings

READ_TIMEOUT_S = 30.0
# How a disposal is named in `dead_letter_disposal` and in the audit trail.
DISPOSAL_ACTIONS = {"replayed": "dead-letters.replay", "discarded": "dead-letters.discard"}


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, with where it came from and why it is there."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def coordinates(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def identity(self) -> tuple[str, str | None]:
        """Coordinates and event id: what a disposal is recorded against."""
        return self.coordinates, self.header("ce_id")

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def summary(self) -> dict[str, Any]:
        """What `list` shows: coordinates, the event's id and type, when, and why."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "dead_lettered_at": self.time.isoformat(),
            "event_id": self.header("ce_id"),
            "event_type": self.header("ce_type"),
            "source": f"{self.header('dlq_source_topic')}"
            f"[{self.header('dlq_source_partition')}]@{self.header('dlq_source_offset')}",
            "reason": self.header("dlq_reason"),
        }

    def decoded(self) -> dict[str, Any]:
        """What `show` prints: the summary, every header, and the value as JSON when it is."""
        return {
            **self.summary(),
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "headers": {name: value.decode(errors="replace") for name, value in self.headers},
            "value": _decode_value(self.value),
        }


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command applies to; empty matches nothing."""

    coordinates: frozenset[str] = frozenset()
    event_ids: frozenset[str] = frozenset()
    since: datetime | None = None

    def matches(self, record: DeadLetter) -> bool:
        return (
            record.coordinates in self.coordinates
            or record.header("ce_id") in self.event_ids
            or (self.since is not None and record.time >= self.since)
        )


async def read_dead_letters(settings: ServiceSettings, group: str) -> list[DeadLetter]:
    """Every record on the group's dead-letter topic, oldest first per partition."""
    topic = dead_letter_topic(group)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )
    try:
        await consumer.start()
        return await asyncio.wait_for(_read_all(consumer, topic), READ_TIMEOUT_S)
    finally:
        await consumer.stop()


async def _read_all(consumer: AIOKafkaConsumer, topic: str) -> list[DeadLetter]:
    await consumer.topics()  # refreshes the metadata partitions_for_topic answers from
    partitions = [
        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        return []
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    await consumer.seek_to_beginning(*partitions)
    # Done with a partition once its record before the end offset came back (a position
    # check alone can pass before the fetched records are handed out).
    remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
    records: list[DeadLetter] = []
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=200)
        for partition, batch in batches.items():
            kept = [record for record in batch if record.offset < ends[partition]]
            records.extend(
                DeadLetter(
                    topic=topic,
                    partition=partition.partition,
                    offset=record.offset,
                    timestamp_ms=record.timestamp,
                    key=record.key,
                    value=record.value,
                    headers=tuple(record.headers or ()),
                )
                for record in kept
            )
            if batch and batch[-1].offset + 1 >= ends[partition]:
                remaining.discard(partition)
    return sorted(records, key=lambda r: (r.timestamp_ms, r.partition, r.offset))


async def disposed_records(session: AsyncSession, topic: str) -> set[tuple[str, str | None]]:
    """(`partition:offset`, event id) of the records of `topic` already replayed or discarded.

    The event id is part of it because a broker that lost the topic (Tansu keeps it in memory)
    hands out the same offsets again, to other records.
    """
    rows = await session.execute(
        select(
            dead_letter_disposal.c.partition,
            dead_letter_disposal.c.offset,
            dead_letter_disposal.c.event_id,
        ).where(dead_letter_disposal.c.topic == topic)
    )
    return {(f"{partition}:{offset}", event_id) for partition, offset, event_id in rows.all()}


async def replay(settings: ServiceSettings, records: Sequence[DeadLetter]) -> None:
    """Send each record back to its source topic with its original key and headers."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        request_timeout_ms=10_000,
    )
    try:
        await producer.start()
        for record in records:
            source = record.header("dlq_source_topic")
            if not source:
                raise ValueError(f"dead letter {record.coordinates} names no source topic")
            headers = [
                (name, value) for name, value in record.headers if not name.startswith("dlq_")
            ]
            await producer.send_and_wait(
                source, value=record.value, key=record.key, headers=headers
            )
    finally:
        await producer.stop()


async def record_disposals(
    session: AsyncSession,
    *,
    group: str,
    records: Iterable[DeadLetter],
    disposition: str,
    operator: Operator,
) -> None:
    """Mark records replayed or discarded, with one audit row, in one transaction."""
    records = list(records)
    now = datetime.now(UTC)
    async with session.begin():
        # The latest disposal of a coordinate replaces any earlier one (a replay again, or an
        # older record at the same offset of a topic the broker lost).
        for record in records:
            await session.execute(
                delete(dead_letter_disposal).where(
                    dead_letter_disposal.c.topic == record.topic,
                    dead_letter_disposal.c.partition == record.partition,
                    dead_letter_disposal.c.offset == record.offset,
                )
            )
        if records:
            await session.execute(
                insert(dead_letter_disposal),
                [
                    {
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                        "event_id": record.header("ce_id"),
                        "disposition": disposition,
                        "disposed_by": operator.actor,
                        "disposed_at": now,
                    }
                    for record in records
                ],
            )
        await record_operator_action(
            session,
            actor=operator.actor,
            action=DISPOSAL_ACTIONS[disposition],
            target=dead_letter_topic(group),
            reason=operator.reason,
            details={
                "records": [record.coordinates for record in records],
                "event_ids": [record.header("ce_id") for record in records],
            },
        )


def _decode_value(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value.decode(errors="replace")
