"""The relay wakes for commits that staged events, and sleeps between polls when idle."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from shared.events import EventEnvelope
from shared.outbox import OutboxRelay, add_event, wake_relay_after_commit
from tests.harness import wait_until
from tests.shared.models import Base, OutboxEvent, Tally

pytestmark = pytest.mark.integration


@pytest.fixture
async def woken_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of their own class, as a service's runtime makes them, so listeners stay local."""
    engine = create_async_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    session_class = type("WakeupTestSession", (Session,), {})
    yield async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)
    await engine.dispose()


async def test_a_commit_that_staged_no_event_does_not_wake_the_relay(
    woken_sessions: async_sessionmaker[AsyncSession], service_prefix: str
) -> None:
    # The relay's own commits stage no event: waking on them would make an idle relay spin.
    woken: list[str] = []

    class Recorder:
        def notify(self) -> None:
            woken.append("woken")

    wake_relay_after_commit(woken_sessions.kw["sync_session_class"], Recorder())  # type: ignore[arg-type]
    async with woken_sessions() as session, session.begin():
        session.add(Tally(key="not-an-event", count=1))
    assert woken == []  # listeners run inside commit(), so there is nothing to wait for

    envelope = EventEnvelope(
        source="/test", type=f"{service_prefix}.thing.happened.v1", subject="k", data={}
    )
    async with woken_sessions() as session, session.begin():
        add_event(session, OutboxEvent, envelope)
    assert woken == ["woken"]


async def test_a_commit_that_staged_an_event_wakes_the_relay_before_its_next_poll(
    woken_sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    service_prefix: str,
) -> None:
    relay = OutboxRelay(woken_sessions, OutboxEvent, producer, poll_interval_s=3600)
    wake_relay_after_commit(woken_sessions.kw["sync_session_class"], relay)
    task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: relay.passes >= 1)
        for number in (1, 2):
            envelope = EventEnvelope(
                source="/test", type=f"{service_prefix}.thing.happened.v1", subject="k", data={}
            )
            async with woken_sessions() as session, session.begin():
                add_event(session, OutboxEvent, envelope)
            await wait_until(published(woken_sessions, envelope.id))
            # One pass per wake-up: an hour-long poll never ran, and the relay's own commit
            # (marking the row published) did not wake it again.
            assert relay.passes == 1 + number
    finally:
        relay.stop()
        await task


def published(sessions: async_sessionmaker[AsyncSession], event_id: str):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        async with sessions() as session:
            row = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id))
            return row is not None and row.published_at is not None

    return check


async def test_a_rolled_back_event_does_not_leave_a_wake_up_behind(
    woken_sessions: async_sessionmaker[AsyncSession], service_prefix: str
) -> None:
    woken: list[bool] = []

    class Recorder:
        def notify(self) -> None:
            woken.append(True)

    wake_relay_after_commit(woken_sessions.kw["sync_session_class"], Recorder())  # type: ignore[arg-type]
    envelope = EventEnvelope(
        source="/test", type=f"{service_prefix}.thing.happened.v1", subject="k", data={}
    )
    async with woken_sessions() as session:
        async with session.begin():
            add_event(session, OutboxEvent, envelope)
            await session.flush()
            await session.rollback()
        async with session.begin():
            session.add(Tally(key="after-rollback", count=1))
    assert woken == []
