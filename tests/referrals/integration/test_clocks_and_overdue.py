"""Overdue clocks: listed, announced once per referral clock, stopped by partner contact."""

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import func, select

from services.referrals.models import OutboxEvent
from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

OVERDUE = "referrals.referral.overdue.v1"


async def overdue_rows(hub: Hub) -> int:
    async with hub.app.state.runtime.sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == OVERDUE)
        )


async def resolved_payload(hub: Hub, referral_id: str) -> dict:
    async with hub.app.state.runtime.sessions() as session:
        payload = await session.scalar(
            select(OutboxEvent.payload).where(
                OutboxEvent.key == referral_id,
                OutboxEvent.event_type == "referrals.referral.resolved.v1",
            )
        )
    return orjson.loads(payload)


async def check(hub: Hub) -> int:
    response = await hub.client.post("/api/v1/referrals/overdue-checks", headers=hub.as_("NO-HUB"))
    assert response.status_code == 200, response.text
    return response.json()["notified"]


async def listed_overdue(hub: Hub) -> list[str]:
    response = await hub.client.get(
        "/api/v1/referrals", params={"overdue": "true"}, headers=hub.as_("NO-HUB")
    )
    return [item["id"] for item in response.json()["items"]]


async def test_an_unresolved_see_and_solve_referral_is_overdue_once(hub: Hub) -> None:
    late = (await hub.create())["id"]
    done = (await hub.create())["id"]
    await hub.triage(late)
    await hub.triage(done)
    await hub.act(done, "resolve", {"outcome_code": "resolved"})

    assert await check(hub) == 0
    assert await listed_overdue(hub) == []
    assert (await resolved_payload(hub, done))["within_due"] is True

    hub.now += timedelta(hours=8)  # 17:00 BST has passed
    assert await listed_overdue(hub) == [late]
    assert (await hub.read(late)).json()["clock"]["overdue"] is True
    assert await check(hub) == 1
    assert await check(hub) == 0
    hub.now += timedelta(days=3)
    assert await check(hub) == 0
    assert await overdue_rows(hub) == 1
    history = await hub.client.get(f"/api/v1/referrals/{late}/history", headers=hub.as_("NO-HUB"))
    assert history.json()[-1]["action"] == "overdue"
    assert history.json()[-1]["actor_organisation"] == "system"


async def test_accepting_a_task_is_the_first_partner_contact_and_stops_the_clock(
    hub: Hub,
) -> None:
    contacted = (await hub.create())["id"]
    ignored = (await hub.create())["id"]
    for referral_id in (contacted, ignored):
        await hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
    task = await hub.act(
        contacted,
        "tasks",
        {"organisation": "THIRTEEN-HOUSING", "description": "Visit", **TASK_BASIS},
    )
    hub.now += timedelta(days=1)
    accepted = await hub.act(contacted, f"tasks/{task.json()['id']}/accept", org="THIRTEEN-HOUSING")
    assert accepted.status_code == 200, accepted.text
    read = (await hub.read(contacted)).json()
    assert read["status"] == "in_progress"
    assert read["clock"]["stopped_at"] == "2026-06-02T09:00:00Z"

    hub.now += timedelta(days=2, hours=8)  # past Wednesday 17:00 BST
    assert await listed_overdue(hub) == [ignored]
    assert await check(hub) == 1


async def test_the_periodic_checker_announces_overdue_clocks(
    referrals_settings,
    mint,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import UTC, datetime

    from services.referrals.main import create_app
    from tests.harness import running_app, wait_until

    app = create_app(referrals_settings.model_copy(update={"overdue_check_interval_s": 0.1}))
    hub = Hub(app, None, mint, datetime(2026, 6, 1, 9, tzinfo=UTC))  # type: ignore[arg-type]
    app.state.clock = lambda: hub.now
    async with running_app(app) as client:
        hub.client = client
        referral_id = (await hub.create())["id"]
        await hub.triage(referral_id)
        hub.now += timedelta(days=1)
        assert await wait_until(lambda: overdue_rows(hub), timeout_s=10) == 1
