import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import create_engine, create_session_factory
from shared.kafka import create_producer
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from tests.shared.models import Base


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def settings(kafka: str, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        service_name="shared-test",
        data_dir=tmp_path,
        kafka_bootstrap_servers=kafka,
        kafka_session_timeout_ms=2000,
        kafka_consumer_stall_after_s=1.0,
        # Retries after a transient failure at most a second apart (10 s in production).
        retry_max_delay_s=1.0,
    )


@pytest.fixture
async def producer(settings: ServiceSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(settings)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def make_relay() -> AsyncIterator[Callable[..., OutboxRelay]]:
    """Build relays that give back their leadership connection when the test ends."""
    relays: list[OutboxRelay] = []

    def make(*args: Any, **kwargs: Any) -> OutboxRelay:
        relays.append(OutboxRelay(*args, **kwargs))
        return relays[-1]

    yield make
    for relay in relays:
        await relay.close()


@pytest.fixture
def service_prefix() -> str:
    """A unique `<service>` part, so each test has topics of its own on the shared broker."""
    return "t" + uuid.uuid4().hex[:12]
