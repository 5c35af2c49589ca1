"""A referral's status without its personal fields: what Open311 shows residents' apps."""

import pytest

from tests.referrals.workflow import Hub, place

pytestmark = pytest.mark.integration

POLICE = "CLEVELAND-POLICE"
AUDITOR = "referrals:read audit:read"


async def test_a_status_read_shows_no_personal_field_and_is_not_audited(sqlite_hub: Hub) -> None:
    created = await sqlite_hub.create(
        org=POLICE, channel="open311", referrer={"name": "Alex Resident"}, **place()
    )
    response = await sqlite_hub.client.get(
        f"/api/v1/referrals/{created['id']}/status", headers=sqlite_hub.as_(POLICE)
    )
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["channel"] == "open311"
    assert status["status"] == "received"
    assert response.headers["ETag"] == f'"{status["version"]}"'
    assert not {"summary", "referrer", "subject", "description"} & set(status)
    assert "Alex" not in response.text and "Derwent" not in response.text
    audit = await sqlite_hub.client.get("/api/v1/audit", headers=sqlite_hub.as_(POLICE, AUDITOR))
    assert audit.json()["items"] == []


async def test_a_status_read_is_404_for_an_organisation_that_may_not_see_it(
    sqlite_hub: Hub,
) -> None:
    created = await sqlite_hub.create(org=POLICE)
    response = await sqlite_hub.client.get(
        f"/api/v1/referrals/{created['id']}/status", headers=sqlite_hub.as_("NP-HUB")
    )
    assert response.status_code == 404
