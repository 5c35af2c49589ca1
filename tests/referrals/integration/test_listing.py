"""Listing: filters, cursor pagination, no personal fields."""

from datetime import timedelta

import pytest

from tests.referrals.workflow import Hub

pytestmark = pytest.mark.integration


async def list_ids(hub: Hub, **params: object) -> list[str]:
    response = await hub.client.get("/api/v1/referrals", params=params, headers=hub.as_("NO-HUB"))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_filters_select_by_locality_status_track_category_and_date(hub: Hub) -> None:
    litter = (await hub.create(category_codes=["litter"]))["id"]
    hub.now += timedelta(days=1)
    hmo = (await hub.create(category_codes=["hmo"]))["id"]
    hub.now += timedelta(days=1)
    newport = (await hub.create(org="NO-HUB", locality_code="NP"))["id"]
    await hub.triage(hmo, "multi_agency", lead_organisation="NO-HUB")

    assert await list_ids(hub) == [newport, hmo, litter]
    assert await list_ids(hub, locality_code="NO") == [hmo, litter]
    assert await list_ids(hub, status="triaged") == [hmo]
    assert await list_ids(hub, track="multi_agency") == [hmo]
    assert await list_ids(hub, category_code="environmental") == [litter]
    assert await list_ids(hub, category_code="hmo") == [hmo]
    assert await list_ids(
        hub, received_from="2026-06-02T00:00:00Z", received_to="2026-06-03T00:00:00Z"
    ) == [hmo]
    assert await list_ids(hub, overdue="false") == [newport, hmo, litter]


async def test_one_combination_of_filters_answers_each_organisation_and_value_alone(
    hub: Hub,
) -> None:
    """The list statement is built once per combination of filters, every value a parameter:
    another organisation, or another value of the same filter, gets its own rows."""
    police = (await hub.create(org="CLEVELAND-POLICE"))["id"]
    housing = (await hub.create(org="THIRTEEN-HOUSING"))["id"]
    newport = (await hub.create(org="NP-HUB", locality_code="NP"))["id"]

    async def ids(org: str, **params: object) -> list[str]:
        response = await hub.client.get("/api/v1/referrals", params=params, headers=hub.as_(org))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids("CLEVELAND-POLICE", locality_code="NO") == [police]
    assert await ids("THIRTEEN-HOUSING", locality_code="NO") == [housing]
    assert await ids("NP-HUB", locality_code="NP") == [newport]
    assert await ids("NP-HUB", locality_code="NO") == []
    assert await ids("NP-HUB", locality_code="NP", limit=1) == [newport]


async def test_pages_follow_the_cursor_without_gaps_or_repeats(hub: Hub) -> None:
    created = []
    for _ in range(5):
        created.append((await hub.create())["id"])  # several share one received_at
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await hub.client.get(
            "/api/v1/referrals", params=params, headers=hub.as_("NO-HUB")
        )
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 5


async def test_list_items_carry_no_personal_fields_and_bad_cursors_are_named(
    sqlite_hub: Hub,
) -> None:
    await sqlite_hub.create(subject={"person": {"name": "Joan Smith"}})
    response = await sqlite_hub.client.get("/api/v1/referrals", headers=sqlite_hub.as_("NO-HUB"))
    item = response.json()["items"][0]
    assert "summary" not in item and "subject" not in item and "referrer" not in item
    bad = await sqlite_hub.client.get(
        "/api/v1/referrals", params={"cursor": "garbage"}, headers=sqlite_hub.as_("NO-HUB")
    )
    assert bad.status_code == 400  # the same problem in every service (shared/pagination.py)
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "cursor"
    wrong_status = await sqlite_hub.client.get(
        "/api/v1/referrals", params={"status": "lost"}, headers=sqlite_hub.as_("NO-HUB")
    )
    assert wrong_status.status_code == 422
