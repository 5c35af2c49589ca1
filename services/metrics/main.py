"""Wiring of the metrics service: `uvicorn services.metrics.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI

from services.metrics.api import routers
from services.metrics.areas import load_areas
from services.metrics.config import Settings
from services.metrics.models import OutboxEvent, ProcessedEvent
from services.metrics.service import consumed_batch
from services.metrics.service.consumed import HANDLERS
from shared.app import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    title="Locality Hub: metrics",
    description="Performance Management Framework indicators, observations, derived indicators.",
    routers=routers,
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["metrics.observation", "metrics.indicator"],
    handlers=HANDLERS,
    batch_hooks=consumed_batch.HOOKS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    load_areas(settings.areas_file, settings.localities_file)  # a bad file stops start-up here
    return create_service_app(SPEC, settings)
