"""A consumer's outcomes reach /metrics: consumed, failed, dead-lettered per topic, and lag."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.consumer import EventConsumer
from shared.events import EventEnvelope
from shared.kafka import dead_letter_topic, ensure_topics
from shared.settings import ServiceSettings
from tests.harness import publish, wait_until
from tests.shared.models import ProcessedEvent

pytestmark = pytest.mark.integration


async def refuse_poison(session: AsyncSession, envelope: EventEnvelope) -> None:
    if envelope.data.get("poison"):
        raise ValueError("this payload can never be handled")


@pytest.fixture
async def consumer(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    service_prefix: str,
) -> AsyncIterator[EventConsumer]:
    topic, group = f"{service_prefix}.thing", f"{service_prefix}-group"
    await ensure_topics(settings, [topic, dead_letter_topic(group)])
    consumer = EventConsumer(
        settings,
        group_id=group,
        topics=[topic],
        handlers={f"{service_prefix}.thing.happened.v1": refuse_poison},
        session_factory=sessions,
        processed_model=ProcessedEvent,
        producer=producer,
    )
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.started.wait(), 30)
    yield consumer
    consumer.stop()
    await asyncio.wait_for(task, 15)


def sample(name: str, of: EventConsumer) -> float:
    labels = {"group": of.group_id, "topic": of.topics[0]}
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_handled_failed_and_dead_lettered_events_are_counted_per_topic(
    consumer: EventConsumer, kafka: str, service_prefix: str
) -> None:
    event_type = f"{service_prefix}.thing.happened.v1"
    good = EventEnvelope(source="/test", type=event_type, subject="a", data={})
    poison = EventEnvelope(source="/test", type=event_type, subject="b", data={"poison": True})
    await publish(kafka, good, poison)

    # The two keys may sit on different partitions: wait for both outcomes, in either order.
    await wait_until(lambda: sample("events_dead_lettered_total", consumer) == 1, timeout_s=30)
    await wait_until(lambda: sample("events_consumed_total", consumer) == 1, timeout_s=30)
    assert sample("events_failed_total", consumer) == 3  # each attempt of the poison message

    async def caught_up() -> bool:
        lag = await consumer.lag()
        return bool(lag) and all(value == 0 for value in lag.values())

    assert await wait_until(caught_up, timeout_s=30)
