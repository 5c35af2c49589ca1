"""Actions (lifecycle, notes, overdue once) and reviews (targets frozen as the meeting saw them)."""

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.actionplans.service.actions import announce_overdue_actions
from shared.contracts.actionplans import (
    ACTION_CREATED_V1,
    ACTION_OVERDUE_V1,
    ACTION_STATUS_CHANGED_V1,
    PLAN_ESCALATED_V1,
    PLAN_REVIEWED_V1,
)
from tests.actionplans.conftest import (
    COUNCIL,
    HOUSING,
    create_plan,
    create_target,
    deliver,
    observation,
)
from tests.actionplans.integration.test_targets import outbox_types

pytestmark = pytest.mark.integration


async def test_action_moves_through_its_lifecycle_with_notes_and_referral_links(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}/actions"
    created = await actionplans.post(
        url,
        json={
            "description": "Joint patrols with street wardens in the back alleys",
            "owner_organisation": COUNCIL,
            "due_on": "2030-01-31",
            "referral_ids": ["r-1", "r-2", "r-1"],
        },
        headers=police,
    )
    action = created.json()
    one = f"{url}/{action['id']}"

    started = await actionplans.patch(
        one, json={"status": "in_progress"}, headers=police | {"If-Match": '"1"'}
    )
    noted = await actionplans.post(
        f"{one}/notes", json={"text": "Three patrols done"}, headers=police
    )
    done = await actionplans.patch(
        one, json={"status": "done"}, headers=police | {"If-Match": noted.headers["ETag"]}
    )
    cancelled = await actionplans.patch(
        one, json={"status": "cancelled"}, headers=police | {"If-Match": done.headers["ETag"]}
    )
    read = (await actionplans.get(one, headers=police)).json()

    assert created.status_code == 201
    assert action["referral_ids"] == ["r-1", "r-2"]
    assert started.status_code == 200
    assert done.json()["status"] == "done"
    assert cancelled.status_code == 409  # done may be reopened, not cancelled
    assert [n["text"] for n in read["notes"]] == ["Three patrols done"]
    assert await outbox_types(actionplans_app) == [
        "actionplans.plan.created.v1",
        ACTION_CREATED_V1,
        ACTION_STATUS_CHANGED_V1,
        ACTION_STATUS_CHANGED_V1,
    ]


async def test_action_owner_must_be_in_the_working_group(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)

    response = await actionplans.post(
        f"/api/v1/action-plans/{plan['id']}/actions",
        json={"description": "Landlord visits", "owner_organisation": HOUSING},
        headers=police,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_organisation"


async def test_overdue_action_is_announced_once_and_listed_as_overdue(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}/actions"
    today = date.today()
    for description, due in (
        ("late", today - timedelta(days=2)),
        ("on time", today + timedelta(days=9)),
    ):
        await actionplans.post(
            url,
            json={
                "description": description,
                "owner_organisation": COUNCIL,
                "due_on": due.isoformat(),
            },
            headers=police,
        )
    sessions = actionplans_app.state.runtime.sessions

    now = datetime.now(UTC)
    first = await announce_overdue_actions(sessions, now=now, today=today)
    again = await announce_overdue_actions(sessions, now=now, today=today)
    overdue = (await actionplans.get(f"{url}?overdue=true", headers=police)).json()["items"]

    assert (first, again) == (1, 0)
    assert [a["description"] for a in overdue] == ["late"]
    assert overdue[0]["overdue"] is True
    assert (await outbox_types(actionplans_app)).count(ACTION_OVERDUE_V1) == 1


async def test_review_freezes_targets_as_seen_and_schedules_the_next_meeting(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police, next_review_on="2021-04-14")
    target = await create_target(actionplans, police, plan["id"], target_date="2021-09-30")
    await deliver(actionplans_app, observation("feel_safe_day", "NP", 35.49, date(2021, 3, 31)))
    url = f"/api/v1/action-plans/{plan['id']}/reviews"

    created = await actionplans.post(
        url,
        json={
            "held_on": "2021-04-14",
            "organisations_present": ["CLEVELAND-POLICE", COUNCIL],
            "commentary": "Perception still low after dark",
            "decisions": ["Extend street warden patrols to evenings"],
            "escalations": ["Lighting in the back alleys needs capital funding"],
        },
        headers=police,
    )
    # The survey is later revised upwards: the board's record must not change.
    await deliver(
        actionplans_app, observation("feel_safe_day", "NP", 50.0, date(2021, 3, 31), revision=2)
    )
    review = (await actionplans.get(f"{url}/{created.json()['id']}", headers=police)).json()
    plan_now = (await actionplans.get(f"/api/v1/action-plans/{plan['id']}", headers=police)).json()
    live = (
        await actionplans.get(
            f"/api/v1/action-plans/{plan['id']}/targets/{target['id']}", headers=police
        )
    ).json()

    assert created.status_code == 201
    [frozen] = review["target_snapshots"]
    assert (frozen["value"], frozen["rag"], frozen["target_version"]) == (35.49, "red", 1)
    assert live["current_value"] == 50.0
    assert review["escalated"] is True
    assert plan_now["next_review_on"] == "2021-05-14"  # monthly cadence
    types = await outbox_types(actionplans_app)
    assert PLAN_REVIEWED_V1 in types and PLAN_ESCALATED_V1 in types


async def test_a_past_meeting_entered_late_does_not_move_the_next_review(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"
    for held_on in ("2021-10-14", "2021-09-14"):
        response = await actionplans.post(
            f"{url}/reviews",
            json={"held_on": held_on, "organisations_present": ["CLEVELAND-POLICE"]},
            headers=police,
        )
        assert response.status_code == 201

    assert (await actionplans.get(url, headers=police)).json()["next_review_on"] == "2021-11-14"
