"""The whole system: gateway -> actionplans, metrics events on Kafka -> live RAG -> off track."""

import uuid
from datetime import date

import httpx
import pytest

from deploy.local.system import LocalSystem
from shared.contracts.actionplans import TARGET_OFF_TRACK_V1
from tests.actionplans.conftest import observation, plan_body, target_body
from tests.event_waits import event_matching, wait_for_event
from tests.harness import publish

pytestmark = pytest.mark.e2e


async def test_plan_set_through_the_gateway_goes_off_track_from_metrics_events(
    system: LocalSystem,
) -> None:
    kafka = system.kafka_bootstrap_servers
    token = system.mint_token("CLEVELAND-POLICE", "actionplans:read actionplans:write")
    indicator = f"feel_safe_dark_{uuid.uuid4().hex[:8]}"  # the system is shared by e2e tests
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {token}"}
    ) as gateway:
        plan = (await gateway.post("/api/v1/action-plans", json=plan_body())).json()
        target = (
            await gateway.post(
                f"/api/v1/action-plans/{plan['id']}/targets",
                json=target_body(
                    indicator_code=indicator,
                    baseline_value=9.68,
                    target_value=40.0,
                    target_date="2021-09-30",
                ),
            )
        ).json()
        await publish(kafka, observation(indicator, "NP", 12.9, date(2021, 3, 31)))

        off_track = await wait_for_event(
            kafka,
            "actionplans.target",
            match=event_matching(type=TARGET_OFF_TRACK_V1, subject=target["id"]),
        )
        summary = (await gateway.get("/api/v1/localities/NP/action-plans")).json()

    assert off_track.data["plan_id"] == plan["id"]
    mine = [item for item in summary["items"] if item["plan_id"] == plan["id"]]
    assert [item["targets"] for item in mine] == [{"red": 1, "amber": 0, "green": 0, "no_data": 0}]
