"""`GET /metrics`: figures read at scrape time, then the Prometheus text exposition.

Backlogs, lag and pool use are states, not events, so they are read when Prometheus asks
(every 15-30 s) rather than kept up to date on every commit.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.responses import Response

from shared import metrics
from shared.consumer import EventConsumer
from shared.outbox import OutboxEventMixin

log = logging.getLogger(__name__)
SCRAPE_READ_TIMEOUT_S = 2.0


def exposition() -> Response:
    """Every metric of this process in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def read_outbox_backlog(
    service: str,
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: type[OutboxEventMixin],
) -> None:
    """Unpublished rows and the age of the oldest: the first sign the broker is not taking them."""
    model = outbox_model
    query = select(func.count(), func.min(model.created_at)).where(model.published_at.is_(None))
    async with sessions() as session:
        count, oldest = (await session.execute(query)).one()
    metrics.OUTBOX_UNPUBLISHED.labels(service).set(count)
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
    metrics.OUTBOX_OLDEST_AGE.labels(service).set(age)


async def read_consumer_lag(consumers: Iterable[EventConsumer]) -> None:
    for consumer in consumers:
        for (topic, partition), lag in (await consumer.lag()).items():
            metrics.CONSUMER_LAG.labels(consumer.group_id, topic, str(partition)).set(lag)


def read_pool_in_use(service: str, engine: AsyncEngine) -> None:
    checked_out = getattr(engine.pool, "checkedout", None)
    if checked_out is not None:
        metrics.DB_POOL_IN_USE.labels(service).set(checked_out())


async def scrape_service(
    service: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    outbox_model: type[OutboxEventMixin],
    consumers: Iterable[EventConsumer],
) -> Response:
    """A domain service's /metrics: refresh the state gauges, then expose everything."""
    read_pool_in_use(service, engine)
    for reading in (
        read_outbox_backlog(service, sessions, outbox_model),
        read_consumer_lag(consumers),
    ):
        # A database or broker that does not answer must not fail the scrape: the request
        # counters still matter most then, and dependency_up says what is failing.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reading, SCRAPE_READ_TIMEOUT_S)
    return exposition()
