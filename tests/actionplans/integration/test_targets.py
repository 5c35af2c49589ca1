"""SMART targets: measurability, direction from the indicator, versions, live RAG, summary."""

from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.actionplans.models import OutboxEvent
from shared.contracts.actionplans import TARGET_OFF_TRACK_V1, TARGET_SET_V1
from shared.contracts.metrics import INDICATOR_STATUS_CHANGED_V1, IndicatorStatusChangedV1
from shared.contracts.metrics import SOURCE as METRICS_SOURCE
from shared.events import new_event
from tests.actionplans.conftest import create_plan, create_target, deliver, observation, target_body

pytestmark = pytest.mark.integration


async def outbox_types(app: FastAPI) -> list[str]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.seq))
        return list(rows)


async def test_target_without_indicator_value_or_date_says_what_is_missing(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)

    response = await actionplans.post(
        f"/api/v1/action-plans/{plan['id']}/targets",
        json=target_body(indicator_code=None, target_value=None, target_date=None),
        headers=police,
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"] == (
        "The target is not measurable: it needs indicator_code, target_value, target_date."
    )
    assert [e["field"] for e in problem["errors"]] == [
        "indicator_code",
        "target_value",
        "target_date",
    ]


async def test_unseen_indicator_needs_a_fallback_direction_seen_one_decides_it(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}/targets"

    unseen = await actionplans.post(url, json=target_body(desired_direction=None), headers=police)
    await deliver(
        actionplans_app,
        observation(
            "asb_incidents", "NP", 258, date(2021, 6, 30), direction="down", unit="incidents"
        ),
    )
    contradicting = await actionplans.post(
        url,
        json=target_body(indicator_code="asb_incidents", desired_direction="up"),
        headers=police,
    )
    decided = await actionplans.post(
        url,
        json=target_body(
            indicator_code="asb_incidents",
            desired_direction=None,
            baseline_value=523,
            baseline_period="Q1 2020/21",
            baseline_on="2020-06-30",
            target_value=200,
        ),
        headers=police,
    )

    assert unseen.status_code == 422
    assert unseen.json()["errors"][0]["field"] == "desired_direction"
    assert contradicting.status_code == 422
    assert decided.status_code == 201
    target = decided.json()
    assert (target["desired_direction"], target["direction_source"]) == ("down", "indicator")
    assert target["unit"] == "incidents"  # learned from the observation, like the direction
    assert target["current_value"] == 258  # rated at once from the data already seen
    assert target["rag"] is not None


async def test_rebaselining_adds_a_version_and_keeps_the_earlier_one(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    target = await create_target(actionplans, police, plan["id"])
    url = f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}"
    body = {"baseline_value": 35.49, "baseline_period": "March 2021", "reason": "Wave 2 survey"}

    without_etag = await actionplans.post(f"{url}/versions", json=body, headers=police)
    rebaselined = await actionplans.post(
        f"{url}/versions", json=body, headers=police | {"If-Match": f'"{target["version"]}"'}
    )
    versions = (await actionplans.get(f"{url}/versions", headers=police)).json()

    assert without_etag.status_code == 428
    assert rebaselined.status_code == 201
    assert rebaselined.json()["current"]["version"] == 2
    assert [(v["version"], v["baseline_value"], v["target_value"]) for v in versions] == [
        (1, 31.18, 60.0),
        (2, 35.49, 60.0),
    ]
    assert await outbox_types(actionplans_app) == [
        "actionplans.plan.created.v1",
        TARGET_SET_V1,
        TARGET_SET_V1,
    ]


async def test_observations_drive_rag_and_off_track_is_emitted_once_when_it_turns_red(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    target = await create_target(
        actionplans, police, plan["id"], baseline_on="2020-09-30", target_date="2021-09-30"
    )
    url = f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}"

    # Half way along 31.18 -> 60 the trajectory expects about 45.5; 35.49 is ~10 short: red.
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31)))
    red = (await actionplans.get(url, headers=police)).json()
    await deliver(
        actionplans_app, observation("feel_safe_day", "NP", 34.0, date(2021, 3, 31), revision=2)
    )
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 68.65, date(2021, 10, 31)))
    green = (await actionplans.get(url, headers=police)).json()
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 20.0, date(2021, 6, 30)))
    late = (await actionplans.get(url, headers=police)).json()

    assert (red["rag"], red["current_value"]) == ("red", 35.49)
    assert 45 < red["expected_value"] < 46
    assert (green["rag"], green["gap_to_target"]) == ("green", 0.0)
    assert late["current_value"] == 68.65  # an older period arriving late changes nothing
    assert (await outbox_types(actionplans_app)).count(TARGET_OFF_TRACK_V1) == 1


async def test_the_same_observation_delivered_twice_is_applied_once(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    target = await create_target(actionplans, police, plan["id"], target_date="2021-09-30")
    event = observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31))

    await deliver(actionplans_app, event)
    await deliver(actionplans_app, event)

    history = (
        await actionplans.get(f"/api/v1/action-plans/{plan['id']}/history", headers=police)
    ).json()["items"]
    assert [h["change"] for h in history].count("target.rag_changed") == 1
    async with actionplans_app.state.runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(OutboxEvent.event_type == TARGET_OFF_TRACK_V1)
        )
    assert count == 1
    assert target["rag"] is None  # no data when it was set


async def test_locality_summary_counts_rag_and_overdue_actions_per_plan(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    await create_plan(actionplans, police, locality_code="NO", title="North Ormesby plan")
    await create_target(actionplans, police, plan["id"], target_date="2021-09-30")
    await create_target(
        actionplans, police, plan["id"], indicator_code="feel_safe_dark", baseline_value=9.68
    )
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31)))
    await actionplans.post(
        f"/api/v1/action-plans/{plan['id']}/actions",
        json={
            "description": "Weeks of action",
            "owner_organisation": "CLEVELAND-POLICE",
            "due_on": "2021-01-31",
        },
        headers=police,
    )

    response = await actionplans.get("/api/v1/localities/NP/action-plans", headers=police)
    unknown = await actionplans.get("/api/v1/localities/XX/action-plans", headers=police)

    assert response.status_code == 200
    [summary] = response.json()["items"]
    assert summary["plan_id"] == plan["id"]
    assert summary["lead_organisation"] == "CLEVELAND-POLICE"
    assert summary["targets"] == {"red": 1, "amber": 0, "green": 0, "no_data": 1}
    assert (summary["open_actions"], summary["overdue_actions"]) == (1, 1)
    assert summary["next_review_on"] == plan["next_review_on"]
    assert unknown.status_code == 404


async def test_trend_arriving_before_the_first_observation_is_kept(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    target = await create_target(actionplans, police, plan["id"])
    status = IndicatorStatusChangedV1(
        indicator_code="feel_safe_day",
        area_code="NP",
        period_label="Mar 2021",
        latest_value=35.49,
        status="improving",
        changed_at=datetime.now(UTC),
    )

    await deliver(
        actionplans_app,
        new_event(METRICS_SOURCE, INDICATOR_STATUS_CHANGED_V1, "feel_safe_day:NP", status),
    )
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31)))

    url = f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}"
    live = (await actionplans.get(url, headers=police)).json()
    assert (live["current_value"], live["trend"]) == (35.49, "improving")


async def test_a_draft_plan_target_turning_red_raises_the_alarm_only_once_active(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police, status="draft")
    target = await create_target(actionplans, police, plan["id"], target_date="2021-09-30")

    await deliver(actionplans_app, observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31)))

    url = f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}"
    assert (await actionplans.get(url, headers=police)).json()["rag"] == "red"
    assert TARGET_OFF_TRACK_V1 not in await outbox_types(actionplans_app)
    activated = await actionplans.patch(
        f"/api/v1/action-plans/{plan['id']}",
        json={"status": "active"},
        headers=police | {"If-Match": '"1"'},
    )
    assert activated.status_code == 200
    assert (await outbox_types(actionplans_app)).count(TARGET_OFF_TRACK_V1) == 1
