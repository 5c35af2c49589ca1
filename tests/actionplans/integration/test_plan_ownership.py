"""A locality's plans are created and changed by their lead, members or the locality's hub."""

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
)
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

HUB = "NP-HUB"  # plan_body() is for Newport


async def test_naming_another_organisation_as_lead_is_refused_unless_hub(
    actionplans: httpx.AsyncClient, mint: TokenMinter
) -> None:
    refused = await actionplans.post(
        "/api/v1/action-plans", json=plan_body(), headers=mint.headers(HOUSING, READ_WRITE)
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert POLICE in refused.json()["detail"]
    listed = await actionplans.get("/api/v1/action-plans", headers=mint.headers(POLICE, READ_WRITE))
    assert listed.json()["items"] == []

    by_hub = await create_plan(actionplans, mint.headers(HUB, READ_WRITE))
    assert by_hub["lead_organisation"] == POLICE
    other_hub = await actionplans.post(
        "/api/v1/action-plans", json=plan_body(), headers=mint.headers("NO-HUB", READ_WRITE)
    )
    assert other_hub.status_code == 403  # a hub speaks for its own locality only


async def test_the_lead_members_and_hub_change_a_plan_others_get_403(
    actionplans: httpx.AsyncClient, mint: TokenMinter, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"
    version = 1
    for organisation, expected in ((OUTSIDER, 403), (HOUSING, 403), (COUNCIL, 200), (HUB, 200)):
        response = await actionplans.patch(
            url,
            json={"title": f"Renamed by {organisation}"},
            headers=mint.headers(organisation, READ_WRITE) | {"If-Match": f'"{version}"'},
        )
        assert response.status_code == expected, (organisation, response.text)
        version += response.status_code == 200


async def test_a_member_may_not_hand_the_lead_to_another_organisation(
    actionplans: httpx.AsyncClient, mint: TokenMinter, police: dict[str, str]
) -> None:
    plan = await create_plan(actionplans, police)
    url = f"/api/v1/action-plans/{plan['id']}"
    by_member = await actionplans.patch(
        url,
        json={"lead_organisation": HOUSING},
        headers=mint.headers(COUNCIL, READ_WRITE) | {"If-Match": '"1"'},
    )
    assert by_member.status_code == 403
    by_lead = await actionplans.patch(
        url, json={"lead_organisation": COUNCIL}, headers=police | {"If-Match": '"1"'}
    )
    assert by_lead.status_code == 200, by_lead.text
