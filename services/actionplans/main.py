"""Wiring of the actionplans service: `uvicorn services.actionplans.main:create_app --factory`."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from services.actionplans.api import router
from services.actionplans.config import Settings
from services.actionplans.models import OutboxEvent, ProcessedEvent
from services.actionplans.service.live_status import HANDLERS
from services.actionplans.service.overdue import OverdueChecker
from shared.app import ServiceSpec, create_service_app
from shared.problems import problem_response

SPEC = ServiceSpec(
    title="Locality Hub: action plans",
    description="Locality action plans: leads, SMART targets on PMF indicators, actions, reviews.",
    routers=[router],
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["actionplans.plan", "actionplans.target", "actionplans.action"],
    handlers=HANDLERS,
    openapi_tags=[
        {"name": "action plans", "description": "Plans, their history and locality summaries."},
        {"name": "targets", "description": "SMART targets on PMF indicators, live RAG."},
        {"name": "actions", "description": "Actions, owners, due dates, progress notes."},
        {"name": "reviews", "description": "Review meetings with frozen target status."},
    ],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(SPEC, settings)
    app.add_exception_handler(StaleDataError, _concurrent_update)  # type: ignore[arg-type]
    app.router.lifespan_context = _with_overdue_checker(app.router.lifespan_context, settings)
    return app


async def _concurrent_update(request: Request, error: StaleDataError) -> JSONResponse:
    """Two updates raced past the If-Match check: the later one loses, as with a stale ETag."""
    return problem_response(
        412,
        "Precondition failed",
        "The resource changed while your update was applied; read it again and retry.",
        slug="precondition-failed",
        instance=request.url.path,
    )


def _with_overdue_checker(inner, settings: Settings):  # type: ignore[no-untyped-def]
    """Run the shared lifespan, plus the overdue-action checker while the service is up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            checker = OverdueChecker(
                app.state.runtime.sessions,
                timezone=settings.timezone,
                interval_s=settings.overdue_check_interval_s,
            )
            task = asyncio.create_task(checker.run(), name="overdue-checker")
            try:
                yield
            finally:
                checker.stop()
                await task

    return lifespan
