"""Partner tasks and information sharing as use cases, below HTTP."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.referrals.domain import LawfulBasis, OutcomeCode, Track
from services.referrals.models import OutboxEvent, Referral
from services.referrals.schemas import ShareCreate, TaskComplete, TaskCreate, TriageRequest
from services.referrals.service import partners, reading
from shared.problems import Conflict, Forbidden, NotFound
from tests.referrals.usecases.conftest import Desk, caller

pytestmark = pytest.mark.usecases

MULTI_AGENCY = TriageRequest(
    track=Track.MULTI_AGENCY, rationale="Needs housing and police", lead_organisation="NO-HUB"
)


async def triaged_referral(desk: Desk) -> str:
    referral_id = (await desk.receive()).referral_id
    await desk.triage(referral_id, MULTI_AGENCY)
    return referral_id


async def assign(desk: Desk, referral_id: str, organisation: str) -> str:
    async with desk.sessions() as session:
        _, task = await partners.assign_task(
            session,
            caller=caller("NO-HUB"),
            referral_id=referral_id,
            if_match=await desk.etag_of(referral_id),
            request=TaskCreate(
                organisation=organisation,
                description="Visit the resident",
                purpose="Visit and report back",
                lawful_basis=LawfulBasis.PUBLIC_TASK,
            ),
            now=desk.now,
        )
    return task.id


async def test_a_partner_accepting_its_task_stops_the_clock_and_completing_it_is_evented(
    desk: Desk,
) -> None:
    referral_id = await triaged_referral(desk)
    task_id = await assign(desk, referral_id, "AGE-UK")
    desk.now += timedelta(hours=3)
    async with desk.sessions() as session:
        referral, task = await partners.accept_task(
            session,
            caller=caller("AGE-UK"),
            referral_id=referral_id,
            task_id=task_id,
            if_match=await desk.etag_of(referral_id),
            now=desk.now,
        )
    assert (referral.status, task.status) == ("in_progress", "accepted")
    assert referral.clock_stopped_at is not None

    async with desk.sessions() as session:
        _, done = await partners.complete_task(
            session,
            caller=caller("AGE-UK"),
            referral_id=referral_id,
            task_id=task_id,
            if_match=await desk.etag_of(referral_id),
            request=TaskComplete(outcome_code=OutcomeCode.RESOLVED),
            now=desk.now,
        )
    assert done.status == "completed"
    async with desk.sessions() as session:
        types = (
            await session.scalars(
                select(OutboxEvent.event_type).where(OutboxEvent.key == referral_id)
            )
        ).all()
    assert [t.split(".")[2] for t in types] == [
        "received",
        "triaged",
        "task_assigned",
        "task_completed",
    ]


async def test_only_the_organisation_holding_a_task_can_accept_it(desk: Desk) -> None:
    referral_id = await triaged_referral(desk)
    task_id = await assign(desk, referral_id, "AGE-UK")
    # Sharing makes the referral visible to the council, but the task is still Age UK's.
    await share(desk, referral_id, "MBC")
    async with desk.sessions() as session:
        with pytest.raises(Forbidden):
            await partners.accept_task(
                session,
                caller=caller("MBC"),
                referral_id=referral_id,
                task_id=task_id,
                if_match=await desk.etag_of(referral_id),
                now=desk.now,
            )


async def test_a_task_cannot_be_given_before_triage(desk: Desk) -> None:
    referral_id = (await desk.receive()).referral_id
    with pytest.raises(Conflict):
        await assign(desk, referral_id, "AGE-UK")


async def share(desk: Desk, referral_id: str, organisation: str, by: str = "NO-HUB") -> None:
    async with desk.sessions() as session:
        await partners.share_referral(
            session,
            caller=caller(by),
            referral_id=referral_id,
            if_match=await desk.etag_of(referral_id),
            request=ShareCreate(
                organisation=organisation,
                purpose="safeguarding",
                lawful_basis=LawfulBasis.PUBLIC_TASK,
            ),
            now=desk.now,
        )


async def test_sharing_makes_a_referral_visible_to_that_organisation_only(desk: Desk) -> None:
    referral_id = await triaged_referral(desk)

    async def read_as(organisation: str) -> Referral:
        async with desk.sessions() as session:
            referral, _ = await reading.read_referral(
                session,
                settings=desk.settings,
                caller=caller(organisation),
                referral_id=referral_id,
                purpose="case_work",
                now=desk.now,
            )
        return referral

    with pytest.raises(NotFound):  # as if it did not exist
        await read_as("THIRTEEN-HOUSING")
    await share(desk, referral_id, "THIRTEEN-HOUSING")
    assert (await read_as("THIRTEEN-HOUSING")).id == referral_id
    with pytest.raises(NotFound):
        await read_as("AGE-UK")


async def test_a_referral_is_shared_once_per_organisation_and_only_by_its_owners(
    desk: Desk,
) -> None:
    referral_id = await triaged_referral(desk)
    await share(desk, referral_id, "THIRTEEN-HOUSING")
    with pytest.raises(Conflict):
        await share(desk, referral_id, "THIRTEEN-HOUSING")
    with pytest.raises(Forbidden):  # a recipient cannot pass it on
        await share(desk, referral_id, "AGE-UK", by="THIRTEEN-HOUSING")
