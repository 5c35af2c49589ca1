"""Plans and targets read `as_of` a past moment: what the system knew then, nothing set later."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.clock import set_clock
from tests.actionplans.conftest import create_plan, create_target, deliver, observation

pytestmark = pytest.mark.integration

CREATED = datetime(2021, 1, 10, 9, 0, tzinfo=UTC)
REVIEWED = datetime(2021, 2, 1, 17, 0, tzinfo=UTC)
CHANGED = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2021, 4, 1, 9, 0, tzinfo=UTC)
CLOSED = datetime(2021, 5, 1, 9, 0, tzinfo=UTC)


def query(moment: datetime | str) -> dict[str, str]:
    return {"as_of": moment if isinstance(moment, str) else moment.isoformat()}


async def at(app: FastAPI, moment: datetime) -> None:
    set_clock(app, lambda: moment)


async def plan_with_a_past(
    app: FastAPI, client: httpx.AsyncClient, police: dict[str, str]
) -> dict[str, Any]:
    """A plan created, reviewed, re-baselined and renamed, given a second target, then closed."""
    await at(app, CREATED)
    plan = await create_plan(client, police, title="People feel safe", next_review_on="2021-02-01")
    url = f"/api/v1/action-plans/{plan['id']}"
    first = await create_target(client, police, plan["id"])
    await deliver(app, observation("feel_safe_day", "NP", 30.0, date(2020, 12, 31)))
    rated = (await client.get(f"{url}/targets/{first['id']}", headers=police)).json()

    await at(app, REVIEWED)
    review = await client.post(
        f"{url}/reviews",
        json={"held_on": "2021-02-01", "organisations_present": ["CLEVELAND-POLICE"]},
        headers=police,
    )
    assert review.status_code == 201, review.text

    await at(app, CHANGED)
    rebaselined = await client.post(
        f"{url}/targets/{first['id']}/versions",
        json={"baseline_value": 30.0, "baseline_period": "Dec 2020", "reason": "survey re-run"},
        headers=police | {"If-Match": f'"{rated["version"]}"'},
    )
    assert rebaselined.status_code == 201, rebaselined.text
    current = (await client.get(url, headers=police)).json()
    renamed = await client.patch(
        url,
        json={"title": "People feel safe at night", "lead_person": "Inspector, Newport"},
        headers=police | {"If-Match": f'"{current["version"]}"'},
    )
    assert renamed.status_code == 200, renamed.text

    await at(app, LATER)
    second = await create_target(client, police, plan["id"], indicator_code="feel_safe_dark")
    other = await create_plan(client, police, title="Drugs and drug-related issues")

    await at(app, CLOSED)
    closed = await client.patch(
        url,
        json={"status": "closed"},
        headers=police | {"If-Match": f'"{renamed.json()["version"]}"'},
    )
    assert closed.status_code == 200, closed.text
    return {
        "plan": plan,
        "first": first,
        "second": second,
        "other": other,
        "rated": rated,
        "review": review.json(),
    }


async def test_a_plan_as_of_a_past_moment_is_the_plan_as_it_stood_then(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    past = await plan_with_a_past(actionplans_app, actionplans, police)
    url = f"/api/v1/action-plans/{past['plan']['id']}"

    at_creation = await actionplans.get(url, params=query(CREATED), headers=police)
    after_review = await actionplans.get(url, params=query(REVIEWED), headers=police)
    after_change = await actionplans.get(url, params=query("2021-03-01T09:00:00"), headers=police)
    now = (await actionplans.get(url, headers=police)).json()

    assert at_creation.status_code == 200, at_creation.text
    assert "etag" not in at_creation.headers  # the past is read, never changed
    assert at_creation.json() == past["plan"] | {"as_of": "2021-01-10T09:00:00Z"}
    assert after_review.json()["next_review_on"] == "2021-03-01"  # moved by the review
    assert after_review.json()["version"] == 2
    assert after_change.json()["title"] == "People feel safe at night"  # no offset: UTC
    assert after_change.json()["lead_person"] == "Inspector, Newport"
    assert after_change.json()["status"] == "active"
    assert now["status"] == "closed"
    assert now["as_of"] is None
    assert (await actionplans.get(url, params=query(CLOSED), headers=police)).json() == now | {
        "as_of": "2021-05-01T09:00:00Z"
    }


async def test_a_plan_created_after_the_moment_is_absent_from_lists_and_a_404(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    past = await plan_with_a_past(actionplans_app, actionplans, police)

    def ids(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [plan["id"] for plan in response.json()["items"]]

    listed = await actionplans.get("/api/v1/action-plans", params=query(CHANGED), headers=police)
    missing = await actionplans.get(
        f"/api/v1/action-plans/{past['other']['id']}", params=query(CHANGED), headers=police
    )
    active_then = await actionplans.get(
        "/api/v1/action-plans", params=query(CHANGED) | {"status": "active"}, headers=police
    )
    closed_then = await actionplans.get(
        "/api/v1/action-plans", params=query(CHANGED) | {"status": "closed"}, headers=police
    )
    closed_now = await actionplans.get(
        "/api/v1/action-plans", params={"status": "closed"}, headers=police
    )

    assert ids(listed) == [past["plan"]["id"]]
    assert listed.json()["items"][0]["title"] == "People feel safe at night"
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert ids(active_then) == [past["plan"]["id"]]  # filtered on its status then
    assert ids(closed_then) == []
    assert ids(closed_now) == [past["plan"]["id"]]


async def test_a_target_as_of_a_past_moment_has_the_version_then_in_force_and_the_review_rag(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    past = await plan_with_a_past(actionplans_app, actionplans, police)
    url = f"/api/v1/action-plans/{past['plan']['id']}/targets/{past['first']['id']}"

    before_review = (await actionplans.get(url, params=query(CREATED), headers=police)).json()
    after_review = await actionplans.get(url, params=query(REVIEWED), headers=police)
    rebaselined = (await actionplans.get(url, params=query(CHANGED), headers=police)).json()
    now = (await actionplans.get(url, headers=police)).json()

    assert (before_review["version_in_force"], before_review["current"]["version"]) == (1, 1)
    assert before_review["rag"] is None  # no review had frozen it yet
    assert before_review["rated_at_review"] is None
    assert after_review.status_code == 200, after_review.text
    assert "etag" not in after_review.headers
    seen = after_review.json()
    assert seen["version_in_force"] == 1
    assert seen["current"]["baseline_value"] == 31.18
    assert seen["rag"] == past["rated"]["rag"] is not None
    assert seen["current_value"] == 30.0
    assert seen["rated_at_review"] == {"review_id": past["review"]["id"], "held_on": "2021-02-01"}
    assert seen["as_of"] == "2021-02-01T17:00:00Z"
    assert (rebaselined["version_in_force"], rebaselined["current"]["baseline_value"]) == (2, 30.0)
    assert rebaselined["rag"] == seen["rag"]  # still the RAG the last review froze
    assert (now["version_in_force"], now["as_of"], now["rated_at_review"]) == (2, None, None)


async def test_a_target_set_after_the_moment_is_absent_from_lists_and_a_404(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    past = await plan_with_a_past(actionplans_app, actionplans, police)
    url = f"/api/v1/action-plans/{past['plan']['id']}/targets"

    listed = await actionplans.get(url, params=query(CHANGED), headers=police)
    later = await actionplans.get(
        f"{url}/{past['second']['id']}", params=query(CHANGED), headers=police
    )
    of_a_later_plan = await actionplans.get(
        f"/api/v1/action-plans/{past['other']['id']}/targets", params=query(CHANGED), headers=police
    )
    listed_now = await actionplans.get(url, headers=police)

    assert [t["id"] for t in listed.json()["items"]] == [past["first"]["id"]]
    assert listed.json()["items"][0]["version_in_force"] == 2
    assert later.status_code == 404
    assert of_a_later_plan.status_code == 404
    assert [t["id"] for t in listed_now.json()["items"]] == [
        past["first"]["id"],
        past["second"]["id"],
    ]


@pytest.mark.parametrize("bad", ["0", "1612137600", "yesterday", "2021-02-30T00:00:00Z"])
async def test_as_of_that_is_not_an_iso_timestamp_is_refused(
    actionplans: httpx.AsyncClient, police: dict[str, str], bad: str
) -> None:
    plan = await create_plan(actionplans, police)

    for url in (
        "/api/v1/action-plans",
        f"/api/v1/action-plans/{plan['id']}",
        f"/api/v1/action-plans/{plan['id']}/targets",
    ):
        response = await actionplans.get(url, params={"as_of": bad}, headers=police)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["errors"][0]["field"] == "query.as_of"
