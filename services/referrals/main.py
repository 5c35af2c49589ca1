"""Wiring of the referrals service: `uvicorn services.referrals.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI

from services.referrals.api import router
from services.referrals.config import Settings
from services.referrals.models import OutboxEvent, ProcessedEvent
from shared.app import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    title="Locality Hub: referrals",
    description="The single point of contact: intake, triage, clocks, partner tasks, sharing.",
    routers=[router],
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["referrals.referral"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or Settings())
