"""A broker that comes back empty: the consumer's position is past the new log end."""

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deploy.local.broker import TansuBroker
from shared.consumer import EventConsumer
from shared.events import EventEnvelope
from shared.kafka import create_producer, dead_letter_topic, ensure_topics
from shared.settings import ServiceSettings
from tests.harness import publish, wait_until
from tests.shared.models import ProcessedEvent
from tests.shared.test_consumer import consumer, count_per_key, event_type, tally_of
from tests.shared.test_consumer import publish as publish_with

__all__ = ["consumer", "event_type"]  # fixtures shared with test_consumer

pytestmark = pytest.mark.integration


async def test_a_position_beyond_the_log_end_resets_to_the_earliest_offset(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, service_prefix: str
) -> None:
    broker = TansuBroker(log_file=tmp_path / "broker.log").start()
    settings = ServiceSettings(
        service_name="recovery-test",
        data_dir=tmp_path,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_session_timeout_ms=2000,
        kafka_topic_partitions=1,
    )
    topic, group = f"{service_prefix}.thing", f"{service_prefix}-group"
    kind = f"{service_prefix}.thing.happened.v1"
    await ensure_topics(settings, [topic, dead_letter_topic(group)])
    producer = create_producer(settings)
    await producer.start()
    consumer = EventConsumer(
        settings,
        group_id=group,
        topics=[topic],
        handlers={kind: count_per_key},
        session_factory=sessions,
        processed_model=ProcessedEvent,
        producer=producer,
    )
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.started.wait(), 30)
        before = [EventEnvelope(source="/t", type=kind, subject="old", data={}) for _ in range(6)]
        await publish(broker.bootstrap_servers, *before)
        assert await wait_until(tally_of(sessions, "old"), timeout_s=30) == 6

        broker.stop()
        broker.start()  # empty: the consumer's position (6) is beyond the new log end
        await ensure_topics(settings, [topic, dead_letter_topic(group)])
        after = [EventEnvelope(source="/t", type=kind, subject="new", data={}) for _ in range(2)]
        await publish(broker.bootstrap_servers, *after)

        assert await wait_until(tally_of(sessions, "new"), timeout_s=60) == 2
        assert consumer.health()["state"] == "running"
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)
        await producer.stop()
        broker.stop()


async def test_a_fetch_position_past_the_log_end_is_reset_and_logged(
    consumer: EventConsumer,
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    event_type: str,
) -> None:
    kafka_consumer = consumer._consumer
    await wait_until(lambda: kafka_consumer.assignment(), timeout_s=30)
    for partition in kafka_consumer.assignment():
        kafka_consumer.seek(partition, 1_000)  # as after a topic was re-created under it
    await publish_with(producer, EventEnvelope(source="/t", type=event_type, subject="p", data={}))

    assert await wait_until(tally_of(sessions, "p"), timeout_s=60) == 1
    assert consumer.health()["offset_resets"] >= 1
