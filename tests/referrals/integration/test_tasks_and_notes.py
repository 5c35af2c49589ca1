"""Partner tasks and case notes."""

import pytest

from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

WARDENS = "STREET-WARDENS"


async def triaged_referral(hub: Hub) -> str:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
    return referral_id


async def assign(hub: Hub, referral_id: str, organisation: str = WARDENS) -> dict:
    response = await hub.act(
        referral_id,
        "tasks",
        {
            "organisation": organisation,
            "description": "Patrol the alley at night",
            "due_at": "2026-06-05T16:00:00Z",
            **TASK_BASIS,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_partner_accepts_and_completes_its_task(hub: Hub) -> None:
    referral_id = await triaged_referral(hub)
    task = await assign(hub, referral_id)
    assert task["status"] == "assigned"
    assert task["due_at"] == "2026-06-05T16:00:00Z"

    # Holding a task lets the partner see the referral.
    assert (await hub.read(referral_id, org=WARDENS)).status_code == 200
    accepted = await hub.act(referral_id, f"tasks/{task['id']}/accept", org=WARDENS)
    assert accepted.json()["status"] == "accepted"
    completed = await hub.act(
        referral_id, f"tasks/{task['id']}/complete", {"outcome_code": "resolved"}, org=WARDENS
    )
    assert completed.json()["status"] == "completed"
    assert completed.json()["outcome_code"] == "resolved"

    tasks = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/tasks", headers=hub.as_("NO-HUB")
    )
    assert [t["status"] for t in tasks.json()] == ["completed"]


async def test_only_the_assigned_organisation_acts_on_its_task(sqlite_hub: Hub) -> None:
    referral_id = await triaged_referral(sqlite_hub)
    task = await assign(sqlite_hub, referral_id)
    response = await sqlite_hub.act(referral_id, f"tasks/{task['id']}/accept", org="NO-HUB")
    assert response.status_code == 403


async def test_a_partner_declines_with_a_reason(hub: Hub) -> None:
    referral_id = await triaged_referral(hub)
    task = await assign(hub, referral_id)
    no_reason = await hub.act(referral_id, f"tasks/{task['id']}/decline", {}, org=WARDENS)
    assert no_reason.status_code == 422
    declined = await hub.act(
        referral_id, f"tasks/{task['id']}/decline", {"reason": "Not our patch"}, org=WARDENS
    )
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "Not our patch"
    # A declined task cannot then be completed: declining ended the partner's access too.
    etag = await hub.etag(referral_id)
    late = await hub.act(
        referral_id,
        f"tasks/{task['id']}/complete",
        {"outcome_code": "resolved"},
        org=WARDENS,
        if_match=etag,
    )
    assert late.status_code == 404


async def test_an_unsuccessful_task_outcome_needs_a_note(sqlite_hub: Hub) -> None:
    referral_id = await triaged_referral(sqlite_hub)
    task = await assign(sqlite_hub, referral_id)
    await sqlite_hub.act(referral_id, f"tasks/{task['id']}/accept", org=WARDENS)
    response = await sqlite_hub.act(
        referral_id,
        f"tasks/{task['id']}/complete",
        {"outcome_code": "unable_to_contact"},
        org=WARDENS,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "note"


async def test_tasks_wait_for_triage(sqlite_hub: Hub) -> None:
    referral_id = (await sqlite_hub.create())["id"]
    response = await sqlite_hub.act(
        referral_id, "tasks", {"organisation": WARDENS, "description": "Patrol", **TASK_BASIS}
    )
    assert response.status_code == 409


async def test_case_notes_are_kept_in_order_with_their_authors(hub: Hub) -> None:
    referral_id = await triaged_referral(hub)
    for text in ("Called the resident", "Visited with the warden"):
        response = await hub.act(referral_id, "notes", {"text": text})
        assert response.status_code == 201
    notes = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/notes", headers=hub.as_("NO-HUB")
    )
    assert [n["text"] for n in notes.json()] == ["Called the resident", "Visited with the warden"]
    assert {n["author_organisation"] for n in notes.json()} == {"NO-HUB"}
