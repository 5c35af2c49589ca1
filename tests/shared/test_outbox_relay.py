"""The relay against the real broker and both databases."""

from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deploy.local.broker import TansuBroker
from shared.events import EventEnvelope
from shared.kafka import create_producer
from shared.outbox import OutboxRelay, add_event
from shared.settings import ServiceSettings
from tests.event_waits import assert_no_event, event_matching, wait_for_events
from tests.harness import wait_until
from tests.shared.models import OutboxEvent

pytestmark = pytest.mark.integration


def envelope(prefix: str, subject: str, n: int) -> EventEnvelope:
    return EventEnvelope(
        source="/test", type=f"{prefix}.thing.happened.v1", subject=subject, data={"n": n}
    )


async def test_relay_publishes_committed_events_in_order_and_marks_them_published(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka: str,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    staged = [envelope(service_prefix, "same-key", n) for n in range(5)]
    async with sessions() as session, session.begin():
        for event in staged:
            add_event(session, OutboxEvent, event)

    relay = make_relay(sessions, OutboxEvent, producer)
    assert await relay.publish_pending() == 5
    assert await relay.publish_pending() == 0

    received = await wait_for_events(
        kafka, f"{service_prefix}.thing", match=event_matching(subject="same-key"), count=5
    )
    assert [e.id for e in received] == [e.id for e in staged]
    assert [e.data["n"] for e in received] == [0, 1, 2, 3, 4]
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxEvent))).all()
    assert all(row.published_at is not None for row in rows)


async def test_a_rolled_back_change_publishes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka: str,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    rolled_back = envelope(service_prefix, "k", 1)
    async with sessions() as session, session.begin():
        add_event(session, OutboxEvent, rolled_back)
        await session.flush()
        await session.rollback()

    relay = make_relay(sessions, OutboxEvent, producer)
    assert await relay.publish_pending() == 0

    # Absence on the topic, bounded by a fence: a later committed event with the same key goes
    # through the same relay in order, so once it is on the topic, nothing is still coming.
    fence = envelope(service_prefix, "k", 2)
    async with sessions() as session, session.begin():
        add_event(session, OutboxEvent, fence)
    assert await relay.publish_pending() == 1
    await assert_no_event(
        kafka,
        f"{service_prefix}.thing",
        match=event_matching(id=rolled_back.id),
        before=event_matching(id=fence.id),
    )


async def test_relay_keeps_events_while_the_broker_is_down_and_publishes_them_after(
    sessions: async_sessionmaker[AsyncSession],
    settings: ServiceSettings,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    broker = TansuBroker().start()
    fast_failing = settings.model_copy(
        update={
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            "kafka_request_timeout_ms": 1000,
        }
    )
    producer = create_producer(fast_failing)
    await producer.start()
    relay = make_relay(sessions, OutboxEvent, producer)
    try:
        broker.stop()
        async with sessions() as session, session.begin():
            add_event(session, OutboxEvent, envelope(service_prefix, "k", 1))
        with pytest.raises(KafkaError):
            await relay.publish_pending()
        async with sessions() as session:
            row = (await session.scalars(select(OutboxEvent))).one()
        assert row.published_at is None
        assert row.attempts == 0, "an outage is not the row's fault: it must never be parked"

        broker.start()
        await wait_until(relay_published(relay), timeout_s=30, interval_s=0.5)
        received = await wait_for_events(
            broker.bootstrap_servers, f"{service_prefix}.thing", match=event_matching(subject="k")
        )
        assert [e.data for e in received] == [{"n": 1}]
    finally:
        await producer.stop()
        broker.stop()


def relay_published(relay: OutboxRelay):  # type: ignore[no-untyped-def]
    async def attempt() -> bool:
        try:
            return await relay.publish_pending() == 1
        except KafkaError:
            return False

    return attempt
