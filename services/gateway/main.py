"""Wiring of the gateway: `uvicorn services.gateway.main:create_app --factory`."""

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway import signing_keys
from services.gateway.access import ClientDirectory, Gatekeeper
from services.gateway.breaker import CircuitBreaker
from services.gateway.config import Settings
from services.gateway.contracts import ServiceContracts
from services.gateway.docs import docs_router
from services.gateway.key_ring import SigningKeyRing
from services.gateway.keys_api import keys_router
from services.gateway.oauth import TOKEN_SCHEMAS, TokenIssuer, oauth_router
from services.gateway.open311 import open311_router
from services.gateway.open311_door import Open311Door
from services.gateway.openapi import MergedOpenApi
from services.gateway.proxy import ProxyMiddleware, UpstreamProxy
from services.gateway.ratelimit import (
    InMemoryRateLimiter,
    LimiterHolder,
    RatePolicy,
    RedisRateLimiter,
)
from services.gateway.routing import RouteTable
from shared import health, metrics, telemetry
from shared.app import external_issuers
from shared.auth import TokenVerifier, ensure_signing_keypair
from shared.clock import clock_of, system_clock
from shared.db import create_engine, create_session_factory
from shared.logs import configure_logging
from shared.metrics_http import exposition, read_pool_in_use
from shared.middleware import RequestContextMiddleware
from shared.migrations import upgrade_to_head
from shared.problems import install_problem_handlers
from shared.security_headers import SecurityHeadersMiddleware

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "1.0.0"
TITLE = "Locality Hub API"
DESCRIPTION = (
    "One front door to referrals, action plans and metrics. Get a token with "
    "`POST /oauth/token` (client credentials), then send `Authorization: Bearer <token>`. "
    "The events on Kafka are catalogued in [/asyncapi.json](/asyncapi.json) (AsyncAPI 3.0)."
)
# Generated from shared/contracts/ by `python -m deploy.asyncapi`; a test keeps it current.
ASYNCAPI_DOCUMENT = Path(__file__).parent / "asyncapi.json"

log = logging.getLogger(__name__)


@dataclass
class GatewayParts:
    """What the gateway holds while it runs (exposed on `app.state.gateway` for tests)."""

    settings: Settings
    engine: AsyncEngine
    proxy: UpstreamProxy
    directory: ClientDirectory
    limiter: LimiterHolder
    breakers: dict[str, CircuitBreaker]
    contracts: ServiceContracts
    keys: SigningKeyRing
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("gateway", VERSION)
    telemetry.configure_tracing("gateway", VERSION)
    routes = RouteTable(settings.routes)
    contracts = ServiceContracts(settings.upstreams(), refresh_s=settings.openapi_cache_s)
    engine = create_engine(settings.resolved_database_url, echo=settings.sql_echo)
    telemetry.instrument_engine(engine)
    sessions = create_session_factory(engine)
    configured_key = configured_signing_key(settings)
    # The clock is looked up on each use, so a test may set it after start-up.
    keys = SigningKeyRing(
        sessions, lambda: clock_of(app)(), min_refresh_s=settings.auth_jwks_min_refresh_s
    )
    verifier = TokenVerifier(
        [],
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway_s=settings.auth_leeway_s,
        external_issuers=external_issuers(settings),
        key_source=keys,
    )
    issuer = TokenIssuer(
        keys,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        ttl_s=settings.access_token_ttl_s,
    )
    parts = GatewayParts(
        settings=settings,
        engine=engine,
        proxy=UpstreamProxy(
            settings.upstreams(),
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            max_connections=settings.max_connections,
        ),
        directory=ClientDirectory(
            RatePolicy(settings.rate_limit_quota, settings.rate_limit_window_s)
        ),
        limiter=LimiterHolder(),
        breakers={
            name: CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_open_s)
            for name in settings.upstreams()
        },
        contracts=contracts,
        keys=keys,
    )
    openapi = MergedOpenApi(contracts, routes, cache_s=settings.openapi_cache_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _start(parts, sessions, configured_key)
        app.state.gateway = parts
        try:
            yield
        finally:
            await _stop(parts)

    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    token_attempts = RatePolicy(settings.token_attempts_quota, settings.token_attempts_window_s)
    app.include_router(oauth_router(sessions, issuer, parts.limiter, token_attempts))
    app.include_router(docs_router())
    app.include_router(
        open311_router(
            Open311Door(settings, sessions, issuer, parts.limiter, parts.directory, parts.proxy)
        )
    )
    app.include_router(
        keys_router(sessions, lambda: clock_of(app)(), settings.longest_token_lifetime)
    )

    @app.get("/livez", tags=["health"])
    async def livez() -> dict[str, str]:
        """The gateway process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Ready when the gateway can serve its own routes (its database, at head); a service
        or Redis that does not answer makes it "degraded", not unready."""
        return await health.readiness_response(
            "gateway",
            required={
                "database": health.database_answers(parts.engine),
                "migrations": health.migrations_at_head(parts.engine, MIGRATIONS_DIR),
            },
            optional=_dependency_checks(parts),
            breakers={name: breaker.state for name, breaker in parts.breakers.items()},
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus exposition of the gateway's metrics."""
        for name, breaker in parts.breakers.items():
            metrics.BREAKER_OPEN.labels(name).set(metrics.BREAKER_STATES[breaker.state])
        read_pool_in_use("gateway", parts.engine)
        return exposition()

    asyncapi = ASYNCAPI_DOCUMENT.read_bytes()

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_document() -> Response:
        """The AsyncAPI 3.0 catalogue of every topic and event."""
        return Response(asyncapi, media_type="application/json")

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> JSONResponse:
        """The merged OpenAPI document of the whole system."""
        own = get_openapi(title=TITLE, version="1.0.0", description=DESCRIPTION, routes=app.routes)
        own.setdefault("components", {}).setdefault("schemas", {}).update(TOKEN_SCHEMAS)
        return JSONResponse(await openapi.document(parts.proxy.session, own))

    app.add_middleware(
        ProxyMiddleware,
        routes=routes,
        contracts=contracts,
        gatekeeper=Gatekeeper(verifier, parts.directory, cache_s=settings.verified_token_cache_s),
        directory=parts.directory,
        limiter_holder=parts.limiter,
        proxy=parts.proxy,
        breakers=parts.breakers,
        max_body_bytes=settings.max_body_bytes,
    )
    app.add_middleware(RequestContextMiddleware, service="gateway")
    app.add_middleware(SecurityHeadersMiddleware)
    telemetry.instrument_app(app)
    return app


async def _start(parts: GatewayParts, sessions: Any, configured_key: bytes | None) -> None:
    settings = parts.settings
    if settings.migrate_on_startup:
        await upgrade_to_head(parts.engine, MIGRATIONS_DIR)
    await _load_signing_keys(parts, sessions, configured_key)
    await parts.directory.refresh(sessions)
    parts.tasks.append(
        asyncio.create_task(parts.directory.keep_fresh(sessions, settings.client_refresh_s))
    )
    await parts.proxy.start()
    # The scope rules come from the services' documents: read them now, and keep them fresh.
    parts.tasks.append(asyncio.create_task(parts.contracts.keep_fresh(parts.proxy.session)))
    parts.limiter.current = (
        RedisRateLimiter(settings.redis_url, password=settings.redis_password())
        if settings.redis_url
        else InMemoryRateLimiter()
    )
    # What start-up built lives as long as the process: keep it out of every full collection
    # (collected first, so no start-up garbage is frozen with it). Not under tests, where many
    # apps start in one process: freezing again and again would pin earlier apps' leftovers
    # (connections, worker threads) for good, and a later app waited on them.
    if settings.environment != "test":
        gc.collect()
        gc.freeze()


def configured_signing_key(settings: Settings) -> bytes | None:
    """The key to import on first start: the configured one, or the development key (made
    when missing) that `make run` also mints its printed token with."""
    if settings.auth_private_key_file is None and settings.environment == "development":
        ensure_signing_keypair(settings.data_dir / "keys")
    path = settings.resolved_private_key_file
    return path.read_bytes() if path.is_file() else None


async def _load_signing_keys(parts: GatewayParts, sessions: Any, configured: bytes | None) -> None:
    """The first start imports the configured key (or the development one) or makes one."""
    settings = parts.settings
    async with sessions() as session:
        await signing_keys.ensure_active_key_once(
            session, configured_private_key_pem=configured, now=system_clock()
        )
    await parts.keys.load()
    parts.tasks.append(asyncio.create_task(parts.keys.keep_fresh(settings.signing_keys_refresh_s)))


async def _stop(parts: GatewayParts) -> None:
    # Each step is bounded: shutting down must never wait forever on one dependency.
    for task in parts.tasks:
        task.cancel()
    await _bounded("background tasks", asyncio.gather(*parts.tasks, return_exceptions=True))
    await _bounded("upstream connections", parts.proxy.close())
    await _bounded("rate limiter", parts.limiter.current.close())
    await _bounded("database", parts.engine.dispose())


async def _bounded(what: str, step: Awaitable[Any], seconds: float = 5.0) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("stopping: %s did not close within %.0fs", what, seconds)


def _dependency_checks(parts: GatewayParts) -> dict[str, health.Check]:
    proxy = parts.proxy
    checks: dict[str, health.Check] = {
        name: functools.partial(_upstream_ready, proxy, name) for name in proxy.upstreams
    }
    if parts.settings.redis_url:
        checks["redis"] = parts.limiter.current.ping
    return checks


async def _upstream_ready(proxy: UpstreamProxy, service: str) -> bool:
    url = proxy.upstreams[service] + "/readyz"
    async with proxy.session.get(url) as response:
        return response.status == 200
