"""Plans over HTTP: creation, access, ETag/If-Match, status lifecycle, history, lists."""

import asyncio

import httpx
import pytest

from tests.actionplans.conftest import (
    COUNCIL,
    HOUSING,
    OUTSIDER,
    POLICE,
    READ_WRITE,
    create_plan,
    plan_body,
    target_body,
)
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration


async def test_plan_is_created_read_back_with_etag_and_listed_in_its_history(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    created = await create_plan(actionplans, police)

    response = await actionplans.get(f"/api/v1/action-plans/{created['id']}", headers=police)

    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{created["version"]}"'
    plan = response.json()
    assert plan["lead_organisation"] == POLICE
    assert plan["member_organisations"] == [COUNCIL]
    assert plan["review_cadence"] == "monthly"
    assert plan["next_review_on"] is not None  # a month from today by default
    history = (
        await actionplans.get(f"/api/v1/action-plans/{created['id']}/history", headers=police)
    ).json()["items"]
    assert [(h["change"], h["organisation"]) for h in history] == [("plan.created", POLICE)]


async def test_plan_refuses_unknown_locality_objective_or_closed_start_naming_the_field(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    for overrides, field in (
        ({"locality_code": "XX"}, "locality_code"),
        ({"objective_codes": ["world_peace"]}, "objective_codes"),
        ({"status": "closed"}, "status"),
    ):
        response = await actionplans.post(
            "/api/v1/action-plans", json=plan_body(**overrides), headers=police
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field


async def test_updates_need_if_match_and_refuse_a_stale_etag(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"

    missing = await actionplans.patch(url, json={"title": "Safer streets"}, headers=police)
    fresh = await actionplans.patch(
        url, json={"title": "Safer streets"}, headers=police | {"If-Match": '"1"'}
    )
    stale = await actionplans.patch(
        url, json={"title": "Lost update"}, headers=police | {"If-Match": '"1"'}
    )

    assert missing.status_code == 428
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert (await actionplans.get(url, headers=police)).json()["title"] == "Safer streets"


async def test_only_lead_and_member_organisations_change_a_plan_others_read_it(
    actionplans: httpx.AsyncClient, police: dict[str, str], mint: TokenMinter
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"
    outsider = mint.headers(OUTSIDER, READ_WRITE)
    member = mint.headers(COUNCIL, READ_WRITE)
    reader = mint.headers(HOUSING, "actionplans:read")

    refused = await actionplans.patch(
        url, json={"title": "x"}, headers=outsider | {"If-Match": '"1"'}
    )
    no_scope = await actionplans.patch(
        url, json={"title": "x"}, headers=reader | {"If-Match": '"1"'}
    )
    allowed = await actionplans.patch(
        url, json={"member_organisations": [COUNCIL, HOUSING]}, headers=member | {"If-Match": '"1"'}
    )

    assert refused.status_code == 403
    assert no_scope.status_code == 403
    assert allowed.status_code == 200
    assert (await actionplans.get(url, headers=outsider)).status_code == 200
    history = (await actionplans.get(f"{url}/history", headers=reader)).json()["items"]
    assert history[-1]["organisation"] == COUNCIL
    assert history[-1]["details"]["member_organisations"]["to"] == [COUNCIL, HOUSING]


async def test_creating_organisation_joins_the_working_group(
    actionplans: httpx.AsyncClient, mint: TokenMinter
) -> None:
    hub = mint.headers("NP-HUB", READ_WRITE)

    plan = await create_plan(actionplans, hub)

    assert plan["member_organisations"] == [COUNCIL, "NP-HUB"]


async def test_plan_status_moves_draft_active_closed_never_back_to_draft(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police, status="draft")
    url = f"/api/v1/action-plans/{plan['id']}"

    activated = await actionplans.patch(
        url, json={"status": "active"}, headers=police | {"If-Match": '"1"'}
    )
    back_to_draft = await actionplans.patch(
        url, json={"status": "draft"}, headers=police | {"If-Match": '"2"'}
    )
    closed = await actionplans.patch(
        url, json={"status": "closed"}, headers=police | {"If-Match": '"2"'}
    )

    assert activated.status_code == 200
    assert back_to_draft.status_code == 409
    assert "allowed: closed" in back_to_draft.json()["detail"]
    assert closed.json()["status"] == "closed"
    target = await actionplans.post(f"{url}/targets", json=target_body(), headers=police)
    assert target.status_code == 409  # a closed plan is a record until it is reopened


async def test_plans_are_filtered_and_paged_with_a_cursor(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    for number in range(3):
        await create_plan(actionplans, police, title=f"Plan {number}")
    await create_plan(
        actionplans, police, locality_code="NO", objective_codes=["outcomes_for_children"]
    )

    first = (
        await actionplans.get("/api/v1/action-plans?locality=NP&limit=2", headers=police)
    ).json()
    second = (
        await actionplans.get(
            f"/api/v1/action-plans?locality=NP&limit=2&cursor={first['next_cursor']}",
            headers=police,
        )
    ).json()
    children = (
        await actionplans.get(
            "/api/v1/action-plans?objective=outcomes_for_children", headers=police
        )
    ).json()
    bad_cursor = await actionplans.get("/api/v1/action-plans?cursor=nonsense", headers=police)

    assert [p["title"] for p in first["items"] + second["items"]] == ["Plan 0", "Plan 1", "Plan 2"]
    assert second["next_cursor"] is None
    assert [p["locality_code"] for p in children["items"]] == ["NO"]
    assert bad_cursor.status_code == 400


async def test_objectives_are_the_nine_from_the_locality_working_overview(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    items = (await actionplans.get("/api/v1/objectives", headers=police)).json()["items"]

    assert len(items) == 9
    assert {"code": "people_feel_safe", "title": "People feel safe"} in items


async def test_outsiders_cannot_write_targets_actions_or_reviews_and_members_leave_a_trail(
    actionplans: httpx.AsyncClient, police: dict[str, str], mint: TokenMinter
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"
    writes = {
        "targets": target_body(),
        "actions": {"description": "Back alley makeover", "owner_organisation": COUNCIL},
        "reviews": {"held_on": "2021-10-14", "organisations_present": [POLICE, COUNCIL]},
    }
    outsider = mint.headers(OUTSIDER, READ_WRITE)
    member = mint.headers(COUNCIL, READ_WRITE, subject="warden-7")

    refused = [
        (await actionplans.post(f"{url}/{kind}", json=body, headers=outsider)).status_code
        for kind, body in writes.items()
    ]
    accepted = [
        (await actionplans.post(f"{url}/{kind}", json=body, headers=member)).status_code
        for kind, body in writes.items()
    ]

    assert refused == [403, 403, 403]
    assert accepted == [201, 201, 201]
    history = (await actionplans.get(f"{url}/history", headers=outsider)).json()["items"]
    assert [(h["change"], h["organisation"], h["subject"]) for h in history[1:]] == [
        ("target.set", COUNCIL, "warden-7"),
        ("action.created", COUNCIL, "warden-7"),
        ("review.recorded", COUNCIL, "warden-7"),
    ]


async def test_patch_cannot_null_a_required_field(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)

    response = await actionplans.patch(
        f"/api/v1/action-plans/{plan['id']}",
        json={"lead_organisation": None},
        headers=police | {"If-Match": '"1"'},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lead_organisation"


async def test_two_updates_racing_with_the_same_etag_one_wins_one_gets_412(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"

    responses = await asyncio.gather(
        *(
            actionplans.patch(url, json={"title": title}, headers=police | {"If-Match": '"1"'})
            for title in ("Safer streets", "Safer homes")
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 412]
    assert (await actionplans.get(url, headers=police)).headers["ETag"] == '"2"'
