"""Several relays keep each key's order; a row the broker refuses is parked, others go on."""

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import EventEnvelope
from shared.outbox import OutboxRelay, add_event
from tests.event_waits import wait_for_distinct_events
from tests.harness import wait_until
from tests.shared.models import OutboxEvent

pytestmark = pytest.mark.integration


def envelope(prefix: str, subject: str, n: int, **extra: object) -> EventEnvelope:
    return EventEnvelope(
        source="/test",
        type=f"{prefix}.thing.happened.v1",
        subject=subject,
        data={"n": n, **extra},
    )


async def stage(sessions: async_sessionmaker[AsyncSession], *events: EventEnvelope) -> None:
    async with sessions() as session, session.begin():
        for event in events:
            add_event(session, OutboxEvent, event)


async def unpublished(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxEvent]:
    async with sessions() as session:
        query = select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        return list((await session.scalars(query)).all())


async def distinct_events(kafka: str, topic: str, expected: int) -> list[EventEnvelope]:
    """Everything on the topic once `expected` distinct event ids are there (duplicates too)."""
    return await wait_for_distinct_events(kafka, topic, distinct=expected, deadline_s=30)


async def test_two_relays_on_one_database_keep_every_keys_order_and_fail_over(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka: str,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    relays = [
        make_relay(sessions, OutboxEvent, producer, poll_interval_s=0.05, batch_size=7)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        keys = [f"key-{k}" for k in range(20)]
        for n in range(5):
            await stage(sessions, *(envelope(service_prefix, key, n) for key in keys))
        await wait_until(lambda: relays[0].published + relays[1].published >= 100, timeout_s=30)
        if sessions.kw["bind"].dialect.name == "postgresql":
            assert sorted(relay.health()["leading"] for relay in relays) == [False, True]
            leader = next(i for i, relay in enumerate(relays) if relay.health()["leading"])
            relays[leader].stop()
            await tasks[leader]
            await stage(sessions, *(envelope(service_prefix, key, 5) for key in keys))
            follower = relays[1 - leader]
            await wait_until(lambda: follower.health()["leading"], timeout_s=10)
            await wait_until(lambda: follower.published >= 20, timeout_s=30)
            expected = 120
        else:
            # SQLite: every relay sends; duplicates are possible (the inbox drops them).
            expected = 100

        received = await distinct_events(kafka, f"{service_prefix}.thing", expected)
        first_seen: dict[str, list[int]] = {key: [] for key in keys}
        seen_ids: set[str] = set()
        for event in received:
            if event.id not in seen_ids:
                seen_ids.add(event.id)
                first_seen[event.subject or ""].append(event.data["n"])
        for key, order in first_seen.items():
            assert order == sorted(order), f"{key} out of order on the wire: {order}"
        assert len(seen_ids) == expected
        assert await unpublished(sessions) == []
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks)


async def test_a_row_the_broker_refuses_is_parked_with_its_reason_and_other_keys_go_on(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka: str,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    too_big = envelope(service_prefix, "big", 0, blob="x" * (2 * 1024 * 1024))
    behind_it = envelope(service_prefix, "big", 1)
    others = [envelope(service_prefix, f"other-{k}", 0) for k in range(3)]
    await stage(sessions, too_big, behind_it, *others)
    relay = make_relay(sessions, OutboxEvent, producer, max_attempts=3)

    assert await relay.publish_pending() == 3, "the other keys go on at once"
    assert await relay.publish_pending() == 0, "the row behind the refused one waits its turn"
    assert await relay.publish_pending() == 0
    assert relay.parked == 1
    assert await relay.publish_pending() == 1, "once parked, the key's next row goes"

    received = await wait_for_distinct_events(kafka, f"{service_prefix}.thing", distinct=4)
    assert {event.id for event in received} == {e.id for e in [behind_it, *others]}
    async with sessions() as session:
        parked = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == too_big.id))
    assert parked is not None
    assert parked.parked_at is not None
    assert parked.published_at is None
    assert parked.attempts == 3
    assert "MessageSizeTooLargeError" in (parked.last_error or "")
    assert relay.health()["parked"] == 1
