"""A task discloses a referral: decided by the lead or hub, recorded with a basis, ended with it."""

import pytest

from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

HOUSING = "THIRTEEN-HOUSING"
POLICE = "DURHAM-POLICE"


async def referral_with_task(hub: Hub, holder: str = HOUSING) -> tuple[str, dict]:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id, "multi_agency", lead_organisation="NO-LEAD")
    task = await hub.act(
        referral_id, "tasks", {"organisation": holder, "description": "Visit", **TASK_BASIS}
    )
    assert task.status_code == 201, task.text
    return referral_id, task.json()


async def history_of(hub: Hub, referral_id: str) -> list[dict]:
    response = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/history", headers=hub.as_("NO-HUB")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


async def test_a_task_holder_may_not_pass_the_referral_on(sqlite_hub: Hub) -> None:
    referral_id, _ = await referral_with_task(sqlite_hub)
    onward = await sqlite_hub.act(
        referral_id,
        "tasks",
        {"organisation": POLICE, "description": "Have a look", **TASK_BASIS},
        org=HOUSING,
    )
    assert onward.status_code == 403
    assert onward.headers["content-type"] == "application/problem+json"
    assert "lead organisation or the locality hub" in onward.json()["detail"]
    assert (await sqlite_hub.read(referral_id, org=POLICE)).status_code == 404


async def test_the_lead_may_assign_a_task(sqlite_hub: Hub) -> None:
    referral_id, _ = await referral_with_task(sqlite_hub)
    by_lead = await sqlite_hub.act(
        referral_id,
        "tasks",
        {"organisation": POLICE, "description": "Patrol", **TASK_BASIS},
        org="NO-LEAD",
    )
    assert by_lead.status_code == 201, by_lead.text


async def test_a_task_records_the_purpose_and_lawful_basis_of_the_disclosure(
    sqlite_hub: Hub,
) -> None:
    referral_id = (await sqlite_hub.create())["id"]
    await sqlite_hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
    no_basis = await sqlite_hub.act(
        referral_id, "tasks", {"organisation": HOUSING, "description": "Visit"}
    )
    assert no_basis.status_code == 422
    fields = {error["field"] for error in no_basis.json()["errors"]}
    assert {"purpose", "lawful_basis"} <= {field.split(".")[-1] for field in fields}

    referral_id, task = await referral_with_task(sqlite_hub)
    assert (task["purpose"], task["lawful_basis"]) == ("Visit and report back", "public_task")
    assigned = [
        e for e in await history_of(sqlite_hub, referral_id) if e["action"] == "task_assigned"
    ]
    assert assigned[0]["details"]["lawful_basis"] == "public_task"
    assert assigned[0]["details"]["purpose"] == "Visit and report back"


async def test_declining_a_task_ends_the_access_it_gave(sqlite_hub: Hub) -> None:
    referral_id, task = await referral_with_task(sqlite_hub)
    assert (await sqlite_hub.read(referral_id, org=HOUSING)).status_code == 200
    declined = await sqlite_hub.act(
        referral_id, f"tasks/{task['id']}/decline", {"reason": "Not ours"}, org=HOUSING
    )
    assert declined.status_code == 200, declined.text
    assert (await sqlite_hub.read(referral_id, org=HOUSING)).status_code == 404
    listed = await sqlite_hub.client.get("/api/v1/referrals", headers=sqlite_hub.as_(HOUSING))
    assert referral_id not in {item["id"] for item in listed.json()["items"]}
    entry = [e for e in await history_of(sqlite_hub, referral_id) if e["action"] == "task_declined"]
    assert entry[0]["details"]["access_ended"] is True


async def test_withdrawing_a_task_ends_the_access_it_gave(sqlite_hub: Hub) -> None:
    referral_id, task = await referral_with_task(sqlite_hub)
    by_holder = await sqlite_hub.act(
        referral_id, f"tasks/{task['id']}/withdraw", {"reason": "Mine now"}, org=HOUSING
    )
    assert by_holder.status_code == 403
    withdrawn = await sqlite_hub.act(
        referral_id, f"tasks/{task['id']}/withdraw", {"reason": "Resolved by the hub"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await sqlite_hub.read(referral_id, org=HOUSING)).status_code == 404
    entry = [
        e for e in await history_of(sqlite_hub, referral_id) if e["action"] == "task_withdrawn"
    ]
    assert entry[0]["details"] == {
        "task_id": task["id"],
        "organisation": HOUSING,
        "access_ended": True,
    }


async def test_access_stays_while_another_basis_remains(sqlite_hub: Hub) -> None:
    referral_id, task = await referral_with_task(sqlite_hub)
    share = {"organisation": HOUSING, "purpose": "Tenancy", "lawful_basis": "public_task"}
    assert (await sqlite_hub.act(referral_id, "shares", share)).status_code == 201
    await sqlite_hub.act(referral_id, f"tasks/{task['id']}/withdraw", {"reason": "Done"})
    assert (await sqlite_hub.read(referral_id, org=HOUSING)).status_code == 200
    entry = [
        e for e in await history_of(sqlite_hub, referral_id) if e["action"] == "task_withdrawn"
    ]
    assert entry[0]["details"]["access_ended"] is False
