"""Wiring of the actionplans service: `uvicorn services.actionplans.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from services.actionplans.api import router
from services.actionplans.config import Settings
from services.actionplans.models import OutboxEvent, ProcessedEvent
from services.actionplans.service.live_status import HANDLERS
from services.actionplans.service.overdue import check_overdue_actions
from shared.app import ServiceSpec, create_service_app
from shared.periodic import PeriodicJob
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
    periodic_jobs=[
        PeriodicJob("announce overdue actions", check_overdue_actions, "overdue_check_interval_s")
    ],
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
