"""The idempotent consumer against the real broker: duplicates, poison messages, dead letters."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg.exceptions as pg
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.consumer import EventConsumer
from shared.events import EventEnvelope, encode_data, to_kafka_headers
from shared.kafka import dead_letter_topic, ensure_topics
from shared.settings import ServiceSettings
from tests.harness import read_topic, wait_until
from tests.shared.models import ProcessedEvent, Tally
from tests.shared.test_failures_unit import as_sqlalchemy_raises_it

pytestmark = pytest.mark.integration


# Events whose handler should fail as a refusing database does, and how often before it works.
REFUSALS: dict[str, int] = {}


async def count_per_key(session: AsyncSession, envelope: EventEnvelope) -> None:
    if envelope.data.get("poison"):
        raise ValueError("this payload can never be handled")
    if REFUSALS.get(envelope.id, 0) > 0:
        REFUSALS[envelope.id] -= 1
        raise as_sqlalchemy_raises_it(pg.CannotConnectNowError("the database is starting up"))
    # Adds one per delivery, so only the inbox keeps a redelivered event from counting twice.
    key = envelope.data.get("tally") or envelope.subject or "none"
    tally = await session.get(Tally, key)
    if tally is None:
        session.add(Tally(key=key, count=1))
    else:
        tally.count += 1


@pytest.fixture
def event_type(service_prefix: str) -> str:
    return f"{service_prefix}.thing.happened.v1"


@pytest.fixture
async def consumer(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    service_prefix: str,
    event_type: str,
) -> AsyncIterator[EventConsumer]:
    topic = f"{service_prefix}.thing"
    group = f"{service_prefix}-group"
    await ensure_topics(settings, [topic, dead_letter_topic(group)])
    consumer = EventConsumer(
        settings,
        group_id=group,
        topics=[topic],
        handlers={event_type: count_per_key},
        session_factory=sessions,
        processed_model=ProcessedEvent,
        producer=producer,
    )
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.started.wait(), 30)
    yield consumer
    consumer.stop()
    await asyncio.wait_for(task, 15)


def tally_of(sessions: async_sessionmaker[AsyncSession], key: str) -> Callable:
    async def read() -> int:
        async with sessions() as session:
            tally = await session.get(Tally, key)
            return tally.count if tally else 0

    return read


async def publish(producer: AIOKafkaProducer, envelope: EventEnvelope) -> None:
    await producer.send_and_wait(
        envelope.topic,
        value=encode_data(envelope),
        key=(envelope.subject or "").encode(),
        headers=to_kafka_headers(envelope),
    )


async def test_the_same_event_delivered_twice_is_counted_once(
    consumer: EventConsumer,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
) -> None:
    first = EventEnvelope(source="/test", type=event_type, subject="a", data={})
    second = EventEnvelope(source="/test", type=event_type, subject="a", data={})
    # Same key, so one partition: the fence is handled only after both copies of `first`.
    fence = EventEnvelope(source="/test", type=event_type, subject="a", data={"tally": "a-fence"})
    for envelope in (first, first, second, fence):
        await publish(producer, envelope)

    assert await wait_until(tally_of(sessions, "a-fence")) == 1
    assert await tally_of(sessions, "a")() == 2  # first once, second once
    assert await _processed_count(sessions, 3)


async def test_a_malformed_message_is_dead_lettered_and_the_consumer_keeps_going(
    consumer: EventConsumer,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
    kafka: str,
) -> None:
    topic = consumer.topics[0]
    await producer.send_and_wait(topic, value=b"{definitely not an event", key=b"b")
    await publish(producer, EventEnvelope(source="/test", type=event_type, subject="b", data={}))

    assert await wait_until(tally_of(sessions, "b")) == 1
    dead = await read_topic(kafka, dead_letter_topic(consumer.group_id), count=1)
    assert len(dead) == 1
    assert dead[0].value == b"{definitely not an event"
    reason = dict(dead[0].headers)["dlq_reason"].decode()
    assert reason.startswith("malformed: missing CloudEvents headers")


async def test_an_event_its_handler_always_rejects_is_dead_lettered_after_retries(
    consumer: EventConsumer,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
    kafka: str,
) -> None:
    poison = EventEnvelope(source="/test", type=event_type, subject="c", data={"poison": True})
    await publish(producer, poison)
    await publish(producer, EventEnvelope(source="/test", type=event_type, subject="c", data={}))

    assert await wait_until(tally_of(sessions, "c")) == 1
    dead = await read_topic(kafka, dead_letter_topic(consumer.group_id), count=1)
    headers = dict(dead[0].headers)
    assert headers["ce_id"] == poison.id.encode()
    assert b"ValueError" in headers["dlq_reason"]


async def test_unknown_event_types_are_skipped(
    consumer: EventConsumer,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    service_prefix: str,
    event_type: str,
) -> None:
    await publish(
        producer,
        EventEnvelope(source="/test", type=f"{service_prefix}.thing.renamed.v1", subject="d"),
    )
    await publish(producer, EventEnvelope(source="/test", type=event_type, subject="d", data={}))

    assert await wait_until(tally_of(sessions, "d")) == 1
    assert await _processed_count(sessions, 1)


async def test_a_database_refusing_connections_is_waited_out_never_dead_lettered(
    consumer: EventConsumer,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
) -> None:
    refused = EventEnvelope(source="/test", type=event_type, subject="e", data={})
    # More refusals than kafka_consumer_max_attempts: the old consumer dead-lettered it.
    REFUSALS[refused.id] = 5
    await publish(producer, refused)

    await wait_until(lambda: consumer.health()["retry"]["retrying"], timeout_s=20)
    # Retrying longer than kafka_consumer_stall_after_s (1 s here): reported as stalled.
    await wait_until(lambda: consumer.health()["state"] == "stalled", timeout_s=10)
    assert await wait_until(tally_of(sessions, "e"), timeout_s=30) == 1
    health = consumer.health()
    assert health["state"] == "running"
    assert health["retry"]["total_retries"] == 5
    assert health["dead_letters"]["sent"] == 0


async def test_a_2mb_poison_record_is_dead_lettered_as_a_truncated_copy_with_coordinates(
    consumer: EventConsumer,
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
    kafka: str,
) -> None:
    topic = consumer.topics[0]
    big_producer = AIOKafkaProducer(bootstrap_servers=kafka, max_request_size=8 * 1024 * 1024)
    await big_producer.start()
    try:
        garbage = b"x" * (2 * 1024 * 1024)
        sent = await big_producer.send_and_wait(topic, value=garbage, key=b"f")
        await publish(
            big_producer, EventEnvelope(source="/test", type=event_type, subject="f", data={})
        )
    finally:
        await big_producer.stop()

    assert await wait_until(tally_of(sessions, "f"), timeout_s=30) == 1
    dead = await read_topic(kafka, dead_letter_topic(consumer.group_id), count=1)
    headers = dict(dead[0].headers)
    assert headers["dlq_truncated"] == b"true"
    assert headers["dlq_source_topic"] == topic.encode()
    assert headers["dlq_source_partition"] == str(sent.partition).encode()
    assert headers["dlq_source_offset"] == str(sent.offset).encode()
    assert int(headers["dlq_source_size"]) >= len(garbage)
    assert headers["dlq_reason"].startswith(b"malformed")
    assert b"MessageSizeTooLargeError" in headers["dlq_refused"]
    assert dead[0].value == garbage[: len(dead[0].value)]
    assert consumer.health()["dead_letters"] == {
        "sent": 1,
        "truncated": 1,
        "dropped": 0,
        "retrying": False,
        "total_retries": 0,
    }


async def _processed_count(sessions: async_sessionmaker[AsyncSession], expected: int) -> bool:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(ProcessedEvent)) == expected


async def test_processed_event_ids_are_pruned_after_the_retention_for_this_group_only(
    consumer: EventConsumer,
    sessions: async_sessionmaker[AsyncSession],
    settings: ServiceSettings,
) -> None:
    now = datetime.now(UTC)
    retention = timedelta(hours=settings.inbox_retention_hours)
    rows = {
        "old": (consumer.group_id, now - retention - timedelta(hours=1)),
        "recent": (consumer.group_id, now - retention + timedelta(hours=1)),
        "other-group-old": ("another-group", now - retention - timedelta(hours=1)),
    }
    async with sessions() as session, session.begin():
        for event_id, (group, at) in rows.items():
            session.add(
                ProcessedEvent(
                    consumer_group=group, event_id=event_id, event_type="t", processed_at=at
                )
            )

    assert await consumer.prune_processed_events() == 1
    async with sessions() as session:
        kept = set((await session.scalars(select(ProcessedEvent.event_id))).all())
    assert kept == {"recent", "other-group-old"}
    assert settings.inbox_retention_hours > 7 * 24, "longer than the broker keeps records"
