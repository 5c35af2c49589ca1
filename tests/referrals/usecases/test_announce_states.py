"""Re-announcing every referral's state: one event per referral, in pages, ids and codes only."""

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

from services.referrals.domain import Track
from services.referrals.models import OutboxEvent
from services.referrals.schemas import ResolveRequest, TriageRequest
from services.referrals.service import casework
from services.referrals.service.announce import announce_referral_states
from shared.contracts import referrals as contract
from tests.referrals.usecases.conftest import Desk, caller

pytestmark = pytest.mark.usecases

STATE = contract.REFERRAL_STATE_ANNOUNCED_V1


async def announced(desk: Desk) -> dict[str, dict]:
    async with desk.sessions() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == STATE))
        return {row.key: _data(row) for row in rows}


def _data(row: OutboxEvent) -> dict:
    data: dict = orjson.loads(row.payload)
    return data


async def resolve(desk: Desk, referral_id: str) -> None:
    async with desk.sessions() as session:
        await casework.resolve_referral(
            session,
            caller=caller("NO-HUB", "referrals:read referrals:triage"),
            referral_id=referral_id,
            if_match=await desk.etag_of(referral_id),
            request=ResolveRequest(outcome_code="resolved"),
            now=desk.now + timedelta(hours=2),
        )


async def test_every_referral_is_announced_once_with_its_whole_state(desk: Desk) -> None:
    ids = [(await desk.receive(summary=f"Report {n}")).referral_id for n in range(5)]
    await desk.triage(ids[0], TriageRequest(track=Track.SEE_AND_SOLVE, rationale="Quick fix"))
    await resolve(desk, ids[0])

    outcome = await announce_referral_states(desk.sessions, now=lambda: desk.now, page_size=2)

    assert (outcome.referrals, outcome.pages) == (5, 3)
    states = await announced(desk)
    assert sorted(states) == sorted(ids)
    solved = contract.ReferralStateAnnouncedV1.model_validate(states[ids[0]])
    assert (solved.status, solved.track, solved.within_due) == ("resolved", "see_and_solve", True)
    assert solved.resolved_at == desk.now + timedelta(hours=2)
    waiting = contract.ReferralStateAnnouncedV1.model_validate(states[ids[1]])
    assert (waiting.status, waiting.track, waiting.resolved_at) == ("received", None, None)
    # Ids, codes and times only: the summary a person typed never goes on the wire.
    assert not any("Report" in str(value) for state in states.values() for value in state.values())


async def test_announcing_can_be_narrowed_to_a_locality_and_a_start(desk: Desk) -> None:
    await desk.receive(locality_code="NO")
    later = desk.now + timedelta(days=3)
    desk.now = later
    recent = (await desk.receive(locality_code="NO")).referral_id
    await desk.receive(locality_code="NP")

    outcome = await announce_referral_states(
        desk.sessions, now=lambda: later, received_since=later, locality_code="NO"
    )

    assert outcome.referrals == 1
    assert list(await announced(desk)) == [recent]
