"""Intake and triage as use cases: one transaction each, the change and its event together."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals.domain import Track
from services.referrals.models import OutboxEvent, Referral
from services.referrals.schemas import TriageRequest
from shared.problems import PreconditionFailed, Unprocessable
from tests.referrals.usecases.conftest import Desk

pytestmark = pytest.mark.usecases


async def events_of(sessions: async_sessionmaker[AsyncSession], referral_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxEvent.event_type).where(OutboxEvent.key == referral_id)
        )
        return list(rows)


async def test_a_received_referral_is_stored_with_its_received_event(desk: Desk) -> None:
    outcome = await desk.receive()

    async with desk.sessions() as session:
        referral = await session.get(Referral, outcome.referral_id)
    assert referral is not None
    assert (referral.status, referral.locality_code) == ("received", "NO")
    assert referral.reference == "NO-2026-000001"
    assert await events_of(desk.sessions, outcome.referral_id) == ["referrals.referral.received.v1"]


async def test_a_retry_with_the_same_key_replays_and_stores_nothing_new(desk: Desk) -> None:
    first = await desk.receive(key="retry-1")
    again = await desk.receive(key="retry-1")

    assert first.replayed_body is None
    assert again.replayed_body is not None
    assert again.referral_id == first.referral_id
    async with desk.sessions() as session:
        assert len((await session.scalars(select(Referral.id))).all()) == 1
    assert len(await events_of(desk.sessions, first.referral_id)) == 1


async def test_a_key_reused_for_a_different_request_is_refused(desk: Desk) -> None:
    await desk.receive(key="retry-2")
    with pytest.raises(Unprocessable) as refused:
        await desk.receive(key="retry-2", summary="A different report")
    assert refused.value.errors[0]["field"] == "Idempotency-Key"


async def test_an_unknown_locality_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    with pytest.raises(Unprocessable) as refused:
        await desk.receive(locality_code="XX")
    assert refused.value.errors[0]["field"] == "locality_code"
    async with desk.sessions() as session:
        assert (await session.scalars(select(OutboxEvent))).all() == []


async def test_multi_agency_triage_starts_the_first_contact_clock_two_working_days_on(
    desk: Desk,
) -> None:
    referral_id = (await desk.receive()).referral_id
    request = TriageRequest(
        track=Track.MULTI_AGENCY, rationale="Several agencies", lead_organisation="NO-HUB"
    )
    triaged = await desk.triage(referral_id, request)

    assert (triaged.status, triaged.track, triaged.clock) == (
        "triaged",
        "multi_agency",
        "first_partner_contact",
    )
    # Monday 10:00 BST + 2 working days: Wednesday at the close of the day (17:00 BST).
    assert triaged.due_at is not None
    assert triaged.due_at.astimezone(UTC) == datetime(2026, 6, 3, 16, 0, tzinfo=UTC)
    assert await events_of(desk.sessions, referral_id) == [
        "referrals.referral.received.v1",
        "referrals.referral.triaged.v1",
    ]


async def test_triage_on_a_stale_etag_changes_nothing(desk: Desk) -> None:
    referral_id = (await desk.receive()).referral_id
    stale = await desk.etag_of(referral_id)
    request = TriageRequest(track=Track.SEE_AND_SOLVE, rationale="Quick fix")
    await desk.triage(referral_id, request, stale)

    with pytest.raises(PreconditionFailed):
        await desk.triage(referral_id, request, stale)
    assert len(await events_of(desk.sessions, referral_id)) == 2
