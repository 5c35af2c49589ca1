"""The audit log is scoped: an organisation sees its part of it, `admin` sees all of it."""

import pytest

from tests.referrals.workflow import Hub, referral_body

pytestmark = pytest.mark.integration

POLICE = "CLEVELAND-POLICE"
HOUSING = "THIRTEEN-HOUSING"
AUDITOR = "referrals:read audit:read"


async def audit_rows(hub: Hub, organisation: str, scopes: str = AUDITOR) -> set[tuple[str, str]]:
    response = await hub.client.get("/api/v1/audit", headers=hub.as_(organisation, scopes))
    assert response.status_code == 200, response.text
    return {(row["actor_organisation"], row["referral_id"]) for row in response.json()["items"]}


async def test_an_auditor_sees_reads_of_its_referrals_and_by_its_staff_only(
    sqlite_hub: Hub,
) -> None:
    by_police = (await sqlite_hub.create(org=POLICE))["id"]  # NO-HUB coordinates it
    other_locality = (await sqlite_hub.create(org=HOUSING, locality_code="NP"))["id"]
    assert (await sqlite_hub.read(by_police, org="NO-HUB")).status_code == 200
    assert (await sqlite_hub.read(other_locality, org=HOUSING)).status_code == 200

    # Police made `by_police`: it sees the hub's read of it, not housing's read elsewhere.
    assert await audit_rows(sqlite_hub, POLICE) == {("NO-HUB", by_police)}
    # Housing controls nothing of police's and its own staff read only its own referral.
    assert await audit_rows(sqlite_hub, HOUSING) == {(HOUSING, other_locality)}
    # An organisation with no part in either sees nothing, not an error.
    assert await audit_rows(sqlite_hub, "DURHAM-POLICE") == set()
    # The system-wide view is for admin.
    assert await audit_rows(sqlite_hub, "DURHAM-POLICE", "admin") == {
        ("NO-HUB", by_police),
        (HOUSING, other_locality),
    }


async def test_an_idempotent_replay_of_intake_is_audited(sqlite_hub: Hub) -> None:
    headers = {**sqlite_hub.as_(POLICE), "Idempotency-Key": "retry-1"}
    first = await sqlite_hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == 201
    assert await audit_rows(sqlite_hub, POLICE) == set()  # the creator's own answer is no read
    again = await sqlite_hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    log = await sqlite_hub.client.get("/api/v1/audit", headers=sqlite_hub.as_(POLICE, AUDITOR))
    assert [(r["action"], r["purpose"], r["referral_id"]) for r in log.json()["items"]] == [
        ("replay_intake", "idempotent_replay", first.json()["id"])
    ]
