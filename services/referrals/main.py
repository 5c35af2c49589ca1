"""Wiring of the referrals service: `uvicorn services.referrals.main:create_app --factory`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from services.referrals.api import routers
from services.referrals.config import Settings
from services.referrals.models import OutboxEvent, ProcessedEvent
from services.referrals.service.announce import announce_states_now
from services.referrals.service.consumed import HANDLERS
from services.referrals.service.overdue import check_overdue
from services.referrals.service.webhook_delivery import DeliveryWorker
from services.referrals.service.webhook_targets import Resolver, resolve_host
from shared.app import ServiceRuntime, ServiceSpec, create_service_app
from shared.clock import clock_of
from shared.periodic import PeriodicJob

SPEC = ServiceSpec(
    title="Locality Hub: referrals",
    description="The single point of contact: intake, triage, clocks, partner tasks, sharing.",
    routers=routers,
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["referrals.referral"],
    handlers=HANDLERS,
    periodic_jobs=[
        PeriodicJob("announce overdue referral clocks", check_overdue, "overdue_check_interval_s")
    ],
    state_announcer=announce_states_now,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Refuse broken rule documents at start-up rather than on the first referral.
    settings.taxonomy(), settings.triage_policy(), settings.calendar()
    app = create_service_app(SPEC, settings)
    if settings.webhooks_worker:
        _run_webhook_worker(app, settings)
    return app


def _run_webhook_worker(app: FastAPI, settings: Settings) -> None:
    """Run the webhook delivery worker for as long as the service runs."""
    service_lifespan = app.router.lifespan_context

    def resolver() -> Resolver:
        # Looked up each attempt, so a test may set its own after start-up.
        resolve: Resolver = getattr(app.state, "webhook_resolver", resolve_host)
        return resolve

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_lifespan(app):
            runtime: ServiceRuntime = app.state.runtime
            worker = DeliveryWorker(
                runtime.sessions,
                clock=lambda: clock_of(app)(),
                policy=settings.webhook_target_policy(),
                resolve=resolver,
                timeout_s=settings.webhooks_timeout_s,
                idle_poll_s=settings.webhooks_idle_poll_s,
            )
            worker.wake_after_commits(runtime.sessions.kw["sync_session_class"])
            app.state.webhook_worker = worker
            task = asyncio.create_task(worker.run(), name="webhook deliveries")
            try:
                yield
            finally:
                worker.stop()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=settings.webhooks_timeout_s + 5)

    app.router.lifespan_context = lifespan
