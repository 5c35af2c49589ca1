"""Wiring of the referrals service: `uvicorn services.referrals.main:create_app --factory`."""

from pathlib import Path

from fastapi import FastAPI

from services.referrals.api import routers
from services.referrals.config import Settings
from services.referrals.models import OutboxEvent, ProcessedEvent
from services.referrals.service.announce import announce_states_now
from services.referrals.service.overdue import check_overdue
from shared.app import ServiceSpec, create_service_app
from shared.periodic import PeriodicJob

SPEC = ServiceSpec(
    title="Locality Hub: referrals",
    description="The single point of contact: intake, triage, clocks, partner tasks, sharing.",
    routers=routers,
    migrations_dir=Path(__file__).parent / "migrations",
    outbox_model=OutboxEvent,
    processed_model=ProcessedEvent,
    produced_topics=["referrals.referral"],
    periodic_jobs=[
        PeriodicJob("announce overdue referral clocks", check_overdue, "overdue_check_interval_s")
    ],
    state_announcer=announce_states_now,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Refuse broken rule documents at start-up rather than on the first referral.
    settings.taxonomy(), settings.triage_policy(), settings.calendar()
    return create_service_app(SPEC, settings)
