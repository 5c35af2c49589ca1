"""metrics -> Kafka -> actionplans -> Kafka, on the real broker, with the shared contracts."""

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.actionplans.config import Settings
from services.actionplans.main import create_app
from shared.contracts.actionplans import (
    ACTION_OVERDUE_V1,
    PLAN_CREATED_V1,
    TARGET_OFF_TRACK_V1,
    TARGET_SET_V1,
    ActionOverdueV1,
    PlanCreatedV1,
    TargetOffTrackV1,
    TargetSetV1,
)
from shared.contracts.metrics import (
    INDICATOR_STATUS_CHANGED_V1,
    SOURCE,
    IndicatorStatusChangedV1,
    subject_key,
)
from shared.events import new_event
from tests.actionplans.conftest import create_plan, create_target, observation
from tests.event_waits import wait_for_event
from tests.harness import TokenMinter, publish, running_app, wait_until

pytestmark = pytest.mark.integration


async def test_metrics_events_rate_a_target_and_off_track_reaches_the_broker(
    actionplans: httpx.AsyncClient, police: dict[str, str], kafka: str
) -> None:
    # A code of its own: the metrics topics are shared by every test on this broker.
    indicator = f"feel_safe_dark_{uuid.uuid4().hex[:8]}"
    plan = await create_plan(actionplans, police)
    target = await create_target(
        actionplans,
        police,
        plan["id"],
        indicator_code=indicator,
        baseline_value=9.68,
        target_value=40.0,
        target_date="2021-09-30",
    )
    trend = IndicatorStatusChangedV1(
        indicator_code=indicator,
        area_code="NP",
        period_label="Mar 2021",
        latest_value=12.9,
        status="improving",
        changed_at=datetime.now(UTC),
    )
    await publish(
        kafka,
        observation(indicator, "NP", 12.9, date(2021, 3, 31), unit="percent"),
        new_event(SOURCE, INDICATOR_STATUS_CHANGED_V1, subject_key(indicator, "NP"), trend),
    )
    url = f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}"

    async def rated() -> dict | None:
        body = (await actionplans.get(url, headers=police)).json()
        return body if body["rag"] and body["trend"] else None

    live = await wait_until(rated)

    assert (live["current_value"], live["rag"], live["trend"]) == (12.9, "red", "improving")
    assert live["direction_source"] == "indicator"
    off_track = await wait_for_event(
        kafka,
        "actionplans.target",
        match=lambda e: e.type == TARGET_OFF_TRACK_V1 and e.subject == target["id"],
    )
    payload = TargetOffTrackV1.model_validate(off_track.data)
    assert (payload.plan_id, payload.indicator_code, payload.latest_value) == (
        plan["id"],
        indicator,
        12.9,
    )


async def test_plan_created_and_target_set_are_published_with_the_contract(
    actionplans: httpx.AsyncClient, police: dict[str, str], kafka: str
) -> None:
    plan = await create_plan(actionplans, police)
    target = await create_target(actionplans, police, plan["id"])

    created = await wait_for_event(
        kafka, "actionplans.plan", match=lambda e: e.subject == plan["id"]
    )
    target_set = await wait_for_event(
        kafka, "actionplans.target", match=lambda e: e.subject == target["id"]
    )

    assert created.type == PLAN_CREATED_V1
    assert PlanCreatedV1.model_validate(created.data).objective_codes == ["people_feel_safe"]
    assert "title" not in created.data  # events carry codes, not free text
    assert target_set.type == TARGET_SET_V1
    payload = TargetSetV1.model_validate(target_set.data)
    assert (payload.indicator_code, payload.version, payload.baseline_value) == (
        "feel_safe_day",
        1,
        31.18,
    )


async def test_overdue_checker_in_the_lifespan_publishes_action_overdue(
    actionplans_settings: Settings, mint: TokenMinter, kafka: str
) -> None:
    settings = actionplans_settings.model_copy(update={"overdue_check_interval_s": 0.2})
    headers = mint.headers("CLEVELAND-POLICE", "actionplans:read actionplans:write")
    async with running_app(create_app(settings)) as client:
        plan = await create_plan(client, headers)
        response = await client.post(
            f"/api/v1/action-plans/{plan['id']}/actions",
            json={
                "description": "Close the house used for dealing",
                "owner_organisation": "CLEVELAND-POLICE",
                "due_on": (date.today() - timedelta(days=1)).isoformat(),
            },
            headers=headers,
        )
        action_id = response.json()["id"]

        overdue = await wait_for_event(
            kafka,
            "actionplans.action",
            match=lambda e: e.type == ACTION_OVERDUE_V1 and e.subject == action_id,
        )

    payload = ActionOverdueV1.model_validate(overdue.data)
    assert (payload.plan_id, payload.owner_organisation) == (plan["id"], "CLEVELAND-POLICE")
