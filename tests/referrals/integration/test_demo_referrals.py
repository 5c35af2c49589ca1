"""The runner's demo referrals load through the API under the sharing rules."""

import asyncio

import pytest

from deploy.local import demo_referrals
from shared.auth import ALL_SCOPES
from tests.actionplans.integration.test_demo_data import BlockingClient
from tests.referrals.workflow import Hub

pytestmark = pytest.mark.integration


async def test_demo_referrals_load_with_tasks_given_by_each_locality_hub(sqlite_hub: Hub) -> None:
    sqlite_hub.client.headers.update(sqlite_hub.as_("DEMO-HUB", ALL_SCOPES))
    blocking = BlockingClient(sqlite_hub.client, asyncio.get_running_loop())

    def act_as(organisation: str) -> dict[str, str]:
        return sqlite_hub.as_(organisation, ALL_SCOPES)

    await asyncio.to_thread(demo_referrals.load, blocking, act_as)  # type: ignore[arg-type]

    listed = await sqlite_hub.client.get("/api/v1/referrals", params={"limit": 200})
    assert len(listed.json()["items"]) == len(demo_referrals.DEMO_REFERRALS)
    partner = next(item for item in demo_referrals.DEMO_REFERRALS if item.partners)
    seen = await sqlite_hub.client.get(
        "/api/v1/referrals", headers=sqlite_hub.as_(partner.partners[0])
    )
    assert seen.json()["items"], "a partner given a task sees the referral"
