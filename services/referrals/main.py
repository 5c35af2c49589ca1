"""Wiring of the referrals service: `uvicorn services.referrals.main:create_app --factory`."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.referrals.api import routers
from services.referrals.api.deps import clock_of
from services.referrals.config import Settings
from services.referrals.models import OutboxEvent, ProcessedEvent
from services.referrals.service.overdue import OverdueChecker
from shared.app import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    title="Locality Hub: referrals",
    description="The single point of contact: intake, triage, clocks, partner tasks, sharing.",
    routers=routers,
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["referrals.referral"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Refuse broken rule documents at start-up rather than on the first referral.
    settings.taxonomy(), settings.triage_policy(), settings.calendar()
    app = create_service_app(SPEC, settings)
    app.router.lifespan_context = _with_overdue_checker(app.router.lifespan_context, settings)
    return app


def _with_overdue_checker(inner, settings: Settings):  # type: ignore[no-untyped-def]
    """Run the periodic overdue check for as long as the service runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            if settings.overdue_check_interval_s <= 0:
                yield
                return
            checker = OverdueChecker(
                app.state.runtime.sessions,
                clock=lambda: clock_of(app.state)(),
                interval_s=settings.overdue_check_interval_s,
            )
            task = asyncio.create_task(checker.run(), name="overdue-checker")
            try:
                yield
            finally:
                checker.stop()
                await task

    return lifespan
