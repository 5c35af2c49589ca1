"""An escalated action plan is told to the partners on the plan, once, in order per plan."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals import webhook_repository
from services.referrals.domain.webhooks import TargetPolicy
from services.referrals.models import WebhookDelivery
from services.referrals.service import webhooks
from services.referrals.service.consumed import HANDLERS
from services.referrals.webhook_schemas import SubscriptionCreate
from shared.contracts.actionplans import PLAN_ESCALATED_V1, SOURCE, PlanEscalatedV1
from shared.events import EventEnvelope, new_event
from tests.referrals.usecases.conftest import MONDAY_10AM, Desk, caller

pytestmark = pytest.mark.usecases

LEAD, MEMBER, OUTSIDER = "CLEVELAND-POLICE", "THIRTEEN-HOUSING", "DONCASTER-COUNCIL"
LOCAL = TargetPolicy(require_https=False, allow_private=True)


async def no_dns(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def subscribe(
    sessions: async_sessionmaker[AsyncSession], organisation: str, types: list[str]
) -> str:
    async with sessions() as session:
        created = await webhooks.create_subscription(
            session,
            caller=caller(organisation, "webhooks:manage"),
            request=SubscriptionCreate.model_validate(
                {"url": f"http://127.0.0.1:9/{organisation}", "event_types": types}
            ),
            policy=LOCAL,
            resolve=no_dns,
            now=MONDAY_10AM,
        )
    return created.id


def escalated(plan_id: str, **overrides: object) -> EventEnvelope:
    payload = PlanEscalatedV1.model_validate(
        {
            "plan_id": plan_id,
            "locality_code": "NP",
            "organisation": LEAD,
            "review_id": str(uuid.uuid4()),
            "escalated_at": MONDAY_10AM,
            "lead_organisation": LEAD,
            "member_organisations": [MEMBER],
        }
        | overrides
    )
    return new_event(SOURCE, PLAN_ESCALATED_V1, plan_id, payload)


async def handle(sessions: async_sessionmaker[AsyncSession], envelope: EventEnvelope) -> None:
    async with sessions() as session, session.begin():
        await HANDLERS[envelope.type](session, envelope)


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[WebhookDelivery]:
    async with sessions() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.seq)))


async def test_the_lead_and_members_who_subscribed_are_told_and_no_one_else(desk: Desk) -> None:
    lead = await subscribe(desk.sessions, LEAD, ["plan.escalated"])
    member = await subscribe(desk.sessions, MEMBER, ["plan.escalated", "task.assigned"])
    await subscribe(desk.sessions, OUTSIDER, ["plan.escalated"])
    await subscribe(desk.sessions, MEMBER, ["task.assigned"])  # does not want it
    plan_id = str(uuid.uuid4())
    event = escalated(plan_id)

    await handle(desk.sessions, event)

    queued = await deliveries(desk.sessions)
    assert {d.subscription_id for d in queued} == {lead, member}
    notice = queued[0].payload
    assert notice["type"] == "plan.escalated"
    assert notice["data"] == {
        "plan_id": plan_id,
        "locality_code": "NP",
        "review_id": event.data["review_id"],
        "links": {"plan": f"/api/v1/action-plans/{plan_id}"},
    }
    assert all(
        (d.plan_id, d.referral_id, d.subject_key) == (plan_id, None, f"plan:{plan_id}")
        for d in queued
    )


async def test_an_escalation_handled_twice_queues_nothing_twice(desk: Desk) -> None:
    await subscribe(desk.sessions, MEMBER, ["plan.escalated"])
    event = escalated(str(uuid.uuid4()))
    await handle(desk.sessions, event)
    first = [d.id for d in await deliveries(desk.sessions)]

    await handle(desk.sessions, event)

    assert [d.id for d in await deliveries(desk.sessions)] == first
    assert len(first) == 1


async def test_an_escalation_that_does_not_say_who_is_on_the_plan_tells_no_one(
    desk: Desk,
) -> None:
    await subscribe(desk.sessions, LEAD, ["plan.escalated"])
    # As produced before the event named the plan's organisations.
    await handle(
        desk.sessions,
        escalated(str(uuid.uuid4()), lead_organisation=None, member_organisations=[]),
    )
    assert await deliveries(desk.sessions) == []


async def test_notifications_wait_behind_earlier_ones_about_the_same_plan_only(
    desk: Desk,
) -> None:
    await subscribe(desk.sessions, MEMBER, ["plan.escalated", "task.assigned"])
    plan_id, other_plan = str(uuid.uuid4()), str(uuid.uuid4())
    for envelope in (escalated(plan_id), escalated(plan_id), escalated(other_plan)):
        await handle(desk.sessions, envelope)
    first, second, other = await deliveries(desk.sessions)

    async with desk.sessions() as session:
        due = await webhook_repository.due_deliveries(
            session, MONDAY_10AM + timedelta(days=365), 50
        )
    # The second escalation of the plan waits for the first; another plan does not wait.
    assert [d.id for d, _ in due] == [first.id, other.id]
    assert second.id not in {d.id for d, _ in due}
