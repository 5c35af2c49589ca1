"""actionplans -> Kafka -> referrals -> a partner's webhook: an escalated plan is told to the
organisations on it, signed, on real processes."""

import uuid
from datetime import date

import httpx
import pytest

from deploy.local.system import LocalSystem
from tests.harness import wait_until
from tests.referrals.webhook_receiver import running_receiver

pytestmark = pytest.mark.e2e

LEAD, MEMBER, OUTSIDER = "CLEVELAND-POLICE", "MIDDLESBROUGH-COUNCIL", "THIRTEEN-HOUSING"
SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"


def client_of(system: LocalSystem, organisation: str, scopes: str) -> httpx.AsyncClient:
    token = system.mint_token(organisation, scopes)
    return httpx.AsyncClient(
        base_url=system.gateway_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


async def subscribe(system: LocalSystem, organisation: str, url: str) -> dict:
    async with client_of(system, organisation, "webhooks:manage") as client:
        response = await client.post(
            SUBSCRIPTIONS, json={"url": url, "event_types": ["plan.escalated"]}
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(system: LocalSystem, organisation: str, subscription_id: str) -> list[dict]:
    async with client_of(system, organisation, "webhooks:manage") as client:
        response = await client.get(f"{SUBSCRIPTIONS}/{subscription_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_an_escalated_plan_reaches_its_members_webhook_signed(system: LocalSystem) -> None:
    async with running_receiver() as receiver:
        member = await subscribe(system, MEMBER, receiver.url)
        outsider = await subscribe(system, OUTSIDER, receiver.url)
        receiver.secret = member["secret"]
        async with client_of(system, LEAD, "actionplans:read actionplans:write") as lead:
            plan = await lead.post(
                "/api/v1/action-plans",
                json={
                    "title": f"People feel safe {uuid.uuid4().hex[:6]}",
                    "locality_code": "NP",
                    "objective_codes": ["people_feel_safe"],
                    "lead_person": "Neighbourhood Inspector, Newport",
                    "lead_organisation": LEAD,
                    "member_organisations": [MEMBER],
                    "status": "active",
                },
            )
            assert plan.status_code == 201, plan.text
            plan_id = plan.json()["id"]
            review = await lead.post(
                f"/api/v1/action-plans/{plan_id}/reviews",
                json={
                    "held_on": date.today().isoformat(),
                    "organisations_present": [LEAD, MEMBER],
                    "escalations": ["Lighting in the back alleys needs capital funding"],
                },
            )
            assert review.status_code == 201, review.text

        await wait_until(lambda: receiver.accepted, timeout_s=90)

        (notice,) = receiver.accepted  # verified with the member's secret
        assert receiver.bad_signatures == 0
        assert notice["type"] == "plan.escalated"
        assert notice["data"] == {
            "plan_id": plan_id,
            "locality_code": "NP",
            "review_id": review.json()["id"],
            "links": {"plan": f"/api/v1/action-plans/{plan_id}"},
        }
        # Queued for every recipient in one transaction: the outsider's log is final now.
        assert await deliveries(system, OUTSIDER, outsider["id"]) == []
