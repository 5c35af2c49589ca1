"""Wiring of the metrics service: `uvicorn services.metrics.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI

from services.metrics.api import router
from services.metrics.api_analysis import router as analysis_router
from services.metrics.areas import load_areas
from services.metrics.config import Settings
from services.metrics.handlers import CONSUMED_TOPICS, HANDLERS
from services.metrics.models import OutboxEvent, ProcessedEvent
from shared.app import ServiceRuntime, ServiceSpec, create_service_app
from shared.consumer import EventConsumer


def build_consumers(runtime: ServiceRuntime) -> list[EventConsumer]:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    return [
        EventConsumer(
            settings,
            group_id=settings.consumer_group,
            topics=CONSUMED_TOPICS,
            handlers=HANDLERS,
            session_factory=runtime.sessions,
            processed_model=ProcessedEvent,
            producer=runtime.producer,
        )
    ]


SPEC = ServiceSpec(
    title="Locality Hub: metrics",
    description="Performance Management Framework indicators, observations, derived indicators.",
    routers=[router, analysis_router],
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["metrics.observation", "metrics.indicator"],
    consumers=build_consumers,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    load_areas(settings.areas_file, settings.localities_file)  # a bad file stops start-up here
    return create_service_app(SPEC, settings)
