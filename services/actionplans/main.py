"""Wiring of the actionplans service: `uvicorn services.actionplans.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI

from services.actionplans.api import router
from services.actionplans.config import Settings
from services.actionplans.models import OutboxEvent, ProcessedEvent
from shared.app import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    title="Locality Hub: action plans",
    description="Locality action plans: leads, SMART targets on PMF indicators, actions, reviews.",
    routers=[router],
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["actionplans.plan", "actionplans.target", "actionplans.action"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or Settings())
