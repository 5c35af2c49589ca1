"""Builds a domain service's FastAPI app: database, migrations, outbox relay, consumers, health.

Each service's `main.create_app()` calls `create_service_app` with its ServiceSpec (routers,
handlers of consumed events, periodic jobs); everything below is the same for all of them.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared import health, telemetry
from shared.auth import TokenVerifier, authenticate, ensure_signing_keypair
from shared.clock import clock_of
from shared.consumer import BatchHooks, EventConsumer, EventHandler
from shared.db import create_engine
from shared.events import topic_for
from shared.gateway_auth import GatewayAuthFeed
from shared.inbox import ProcessedEventMixin
from shared.jwks import ExternalIssuer, JwksKeys
from shared.kafka import (
    broker_reachable,
    create_producer,
    dead_letter_topic,
    ensure_topics,
    start_with_retry,
)
from shared.logs import configure_logging
from shared.metrics_http import scrape_service
from shared.middleware import RequestContextMiddleware
from shared.migrations import upgrade_to_head
from shared.openapi_errors import install_error_contract
from shared.outbox import OutboxEventMixin, OutboxRelay, wake_relay_after_commit
from shared.outbox_replay import StateAnnouncer
from shared.periodic import PeriodicJob, run_periodically
from shared.problems import install_problem_handlers
from shared.query_params import refuse_unknown_query_parameters
from shared.security_headers import SecurityHeadersMiddleware
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """What a running service holds: its engine, sessions, producer, relay and consumers."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    relay: OutboxRelay
    consumers: list[EventConsumer] = field(default_factory=list)
    kafka_started: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


ConsumerFactory = Callable[[ServiceRuntime], Sequence[EventConsumer]]


@dataclass(frozen=True)
class ServiceSpec:
    """The parts that differ from service to service."""

    title: str
    description: str
    routers: Sequence[APIRouter]
    migrations_dir: Path
    outbox_model: type[OutboxEventMixin]
    processed_model: type[ProcessedEventMixin]
    produced_topics: Sequence[str] = ()
    # Events this service consumes, by event type: one consumer group (settings.consumer_group)
    # with its inbox, subscribed to the topics those types travel on.
    handlers: Mapping[str, EventHandler] = field(default_factory=dict)
    # Once-per-poll steps of batch-friendly handlers (shared.consumer.BatchHooks).
    batch_hooks: BatchHooks | None = None
    consumers: ConsumerFactory | None = None
    # Use cases run every few seconds while the service runs (e.g. the overdue checks).
    periodic_jobs: Sequence[PeriodicJob] = ()
    # `outbox announce-state`: re-announce current state for consumers to rebuild from.
    state_announcer: StateAnnouncer | None = None
    version: str = "1.0.0"
    openapi_tags: Sequence[dict[str, str]] = ()

    @property
    def consumed_topics(self) -> list[str]:
        """The topics of the handled event types: derived, so a new handler cannot be missed."""
        return sorted({topic_for(event_type) for event_type in self.handlers})


def create_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    configure_logging(settings.service_name, spec.version)
    telemetry.configure_tracing(settings.service_name, spec.version)
    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=_lifespan(spec, settings),
        openapi_tags=list(spec.openapi_tags) or None,
        dependencies=[Depends(refuse_unknown_query_parameters)],
    )
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.add_middleware(SecurityHeadersMiddleware)
    install_problem_handlers(app)
    app.include_router(health_router(spec))
    for router in spec.routers:
        app.include_router(router, dependencies=[Depends(authenticate)])
    install_error_contract(app)
    telemetry.instrument_app(app)
    return app


def _lifespan(spec: ServiceSpec, settings: ServiceSettings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await start_runtime(spec, settings)
        app.state.runtime = runtime
        feed = gateway_auth_feed(settings)
        app.state.gateway_auth = feed
        app.state.token_verifier = load_token_verifier(settings, feed)
        if feed is not None:
            runtime.tasks.append(asyncio.create_task(feed.run(runtime.stopping), name="auth feed"))
        for job in spec.periodic_jobs:
            # The clock is looked up each round, so a test may set it after start-up.
            rounds = run_periodically(
                job, runtime.sessions, settings, lambda: clock_of(app)(), runtime.stopping
            )
            runtime.tasks.append(asyncio.create_task(rounds, name=job.name))
        try:
            yield
        finally:
            await stop_runtime(runtime)
            if feed is not None:
                await feed.close()

    return lifespan


def gateway_auth_feed(settings: ServiceSettings) -> GatewayAuthFeed | None:
    """The gateway's keys and revocations, when the service follows a gateway (AUTH_GATEWAY_URL)."""
    if not settings.auth_gateway_url:
        return None
    return GatewayAuthFeed(
        settings.auth_gateway_url,
        keys_refresh_s=settings.auth_jwks_cache_s,
        revocation_poll_s=settings.auth_revocation_poll_s,
        min_refresh_s=settings.auth_jwks_min_refresh_s,
    )


def load_token_verifier(
    settings: ServiceSettings, feed: GatewayAuthFeed | None = None
) -> TokenVerifier:
    """Keys from the gateway's feed when given, else the public key file (fixed keys)."""
    if feed is not None:
        return TokenVerifier(
            [],
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            leeway_s=settings.auth_leeway_s,
            external_issuers=external_issuers(settings),
            key_source=feed,
            revoked=feed,
        )
    if settings.auth_public_key_file is None and settings.environment == "development":
        ensure_signing_keypair(settings.data_dir / "keys")
    return TokenVerifier.from_file(
        settings.resolved_public_key_file,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway_s=settings.auth_leeway_s,
        external_issuers=external_issuers(settings),
    )


def external_issuers(settings: ServiceSettings) -> list[ExternalIssuer]:
    """The staff identity provider, when one is configured (AUTH_EXTERNAL_ISSUER + _JWKS)."""
    if not settings.auth_external_issuer or not settings.auth_external_jwks:
        return []
    keys = JwksKeys(settings.auth_external_jwks, cache_s=settings.auth_jwks_cache_s)
    audience = settings.auth_external_audience or settings.auth_audience
    return [ExternalIssuer(settings.auth_external_issuer, audience, keys)]


async def start_runtime(spec: ServiceSpec, settings: ServiceSettings) -> ServiceRuntime:
    engine = create_engine(settings.resolved_database_url, echo=settings.sql_echo)
    telemetry.instrument_engine(engine)
    if settings.migrate_on_startup:
        await upgrade_to_head(engine, spec.migrations_dir)
    producer = create_producer(settings)
    session_class = type(f"{settings.service_name.title()}Session", (Session,), {})
    sessions = async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=session_class
    )
    topics: set[str] = set(spec.produced_topics)
    relay = OutboxRelay(
        sessions,
        spec.outbox_model,
        producer,
        poll_interval_s=settings.outbox_poll_interval_s,
        batch_size=settings.outbox_batch_size,
        retention=timedelta(hours=settings.outbox_retention_hours),
        max_attempts=settings.outbox_max_attempts,
        retry_max_delay_s=settings.retry_max_delay_s,
        # The relay re-ensures them after any broker failure (a restarted broker may lose them).
        ensure_topics=lambda: ensure_topics(settings, topics),
    )
    wake_relay_after_commit(session_class, relay)
    runtime = ServiceRuntime(settings, engine, sessions, producer, relay)
    runtime.consumers = list(spec.consumers(runtime)) if spec.consumers else []
    if spec.handlers:
        runtime.consumers.append(inbox_consumer(spec, runtime))
    topics |= {t for c in runtime.consumers for t in c.topics}
    topics |= {dead_letter_topic(c.group_id) for c in runtime.consumers}
    runtime.tasks.append(asyncio.create_task(_run_kafka(runtime), name="kafka"))
    return runtime


def inbox_consumer(spec: ServiceSpec, runtime: ServiceRuntime) -> EventConsumer:
    """The service's consumer: its handlers, its inbox table, dead letters via its producer."""
    settings = runtime.settings
    return EventConsumer(
        settings,
        group_id=getattr(settings, "consumer_group", settings.service_name),
        topics=spec.consumed_topics,
        handlers=spec.handlers,
        session_factory=runtime.sessions,
        processed_model=spec.processed_model,
        producer=runtime.producer,
        batch_hooks=spec.batch_hooks,
    )


async def _run_kafka(runtime: ServiceRuntime) -> None:
    """Start the producer (waiting out a broker that is down), then the relay and consumers."""
    if not await start_with_retry(runtime.producer, "producer", runtime.stopping):
        return
    with suppress(Exception):
        # Before consumers subscribe; the relay checks again after any broker failure.
        await runtime.relay.check_topics()
    runtime.kafka_started.set()
    await asyncio.gather(runtime.relay.run(), *(consumer.run() for consumer in runtime.consumers))


# How long shutdown waits for the background tasks to finish their pass, and then for each
# connection to close: a broker or database that stopped answering must not hold up a SIGTERM.
TASK_GRACE_S = 5.0
CLOSE_GRACE_S = 3.0


async def stop_runtime(runtime: ServiceRuntime) -> None:
    runtime.stopping.set()
    runtime.relay.stop()
    for consumer in runtime.consumers:
        consumer.stop()
    await _finish_tasks(runtime.tasks)
    await _close_within(runtime.producer.stop(), "Kafka producer")
    await _close_within(runtime.engine.dispose(), "database pool")


async def _finish_tasks(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Let every task end its pass together (one grace period for all), cancel the rest."""
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=TASK_GRACE_S)
    for task in pending:
        log.warning(
            "background task %s did not stop in %.0f s: cancelled", task.get_name(), TASK_GRACE_S
        )
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=CLOSE_GRACE_S)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def _close_within(closing: Awaitable[Any], what: str) -> None:
    """Close one connection holder, giving up (and saying so) when its peer does not answer."""
    try:
        await asyncio.wait_for(closing, timeout=CLOSE_GRACE_S)
    except TimeoutError:
        log.warning("%s did not close in %.0f s: left to the process exit", what, CLOSE_GRACE_S)
    except Exception:
        log.warning("%s failed to close cleanly", what, exc_info=True)


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; the use case owns the transaction."""
    async with get_runtime(request).sessions() as session:
        yield session


async def get_settings(request: Request) -> ServiceSettings:
    return get_runtime(request).settings


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def current_runtime(request: Request) -> ServiceRuntime:
    """`get_runtime` as a dependency: async, so FastAPI does not hop to a worker thread for it."""
    return get_runtime(request)


RuntimeDep = Annotated[ServiceRuntime, Depends(current_runtime)]
# The running service's settings, typed as its own class: `settings: SettingsDep[Settings]`.
SettingsDep = Annotated[SettingsT, Depends(get_settings)]


def health_router(spec: ServiceSpec) -> APIRouter:
    """/livez, /readyz and /metrics (shared/health.py says what each promises)."""
    router = APIRouter(tags=["health"])

    @router.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        """The process is up; says nothing about its dependencies."""
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: own database answers, migrations at head")
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        """503 only when this instance cannot serve; a broker outage is 200 "degraded"."""
        engine = runtime.engine

        async def kafka() -> bool:
            return runtime.kafka_started.is_set() and await broker_reachable(runtime.producer)

        async def consumers() -> bool:
            # A stalled consumer degrades the service; it can still take requests.
            return all(consumer.health()["state"] != "stalled" for consumer in runtime.consumers)

        return await health.readiness_response(
            runtime.settings.service_name,
            required={
                "database": health.database_answers(engine),
                "migrations": health.migrations_at_head(engine, spec.migrations_dir),
            },
            optional={"kafka": kafka, "consumers": consumers},
            # As data: each consumer's state, lag and retries, and the relay's.
            consumers=[consumer.health() for consumer in runtime.consumers],
            relay=runtime.relay.health(),
        )

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(runtime: RuntimeDep) -> Response:
        """Prometheus exposition of this process's metrics."""
        return await scrape_service(
            runtime.settings.service_name,
            runtime.engine,
            runtime.sessions,
            spec.outbox_model,
            runtime.consumers,
        )

    return router
