"""Triage, the enforced lifecycle, optimistic concurrency and the referral's history."""

import pytest

from tests.referrals.workflow import Hub

pytestmark = pytest.mark.integration


async def test_triage_records_a_decision_that_may_differ_from_the_suggestion(hub: Hub) -> None:
    created = await hub.create()
    assert created["suggested_track"] == "see_and_solve"
    response = await hub.triage(
        created["id"], "multi_agency", org="NO-HUB", lead_organisation="CLEVELAND-POLICE"
    )
    assert response.status_code == 200, response.text
    triaged = response.json()
    assert triaged["status"] == "triaged"
    assert triaged["track"] == "multi_agency"
    assert triaged["suggested_track"] == "see_and_solve"
    assert triaged["lead_organisation"] == "CLEVELAND-POLICE"
    # Monday 1 June 2026, 10:00 BST + 2 working days: Wednesday 17:00 BST.
    assert triaged["clock"]["name"] == "first_partner_contact"
    assert triaged["clock"]["due_at"] == "2026-06-03T16:00:00Z"

    read = (await hub.read(created["id"])).json()
    assert read["triaged_by_organisation"] == "NO-HUB"
    assert read["triaged_by_subject"] == "dev:NO-HUB"
    assert read["triaged_at"] == "2026-06-01T09:00:00Z"
    assert read["triage_rationale"] == "Discussed at locality triage"


async def test_see_and_solve_is_due_at_the_end_of_that_working_day(hub: Hub) -> None:
    created = await hub.create()
    triaged = (await hub.triage(created["id"])).json()
    assert triaged["clock"] == {
        "name": "see_and_solve",
        "due_at": "2026-06-01T16:00:00Z",
        "stopped_at": None,
        "overdue": False,
    }


async def test_multi_agency_without_a_lead_and_triage_without_the_scope_are_refused(
    sqlite_hub: Hub,
) -> None:
    created = await sqlite_hub.create()
    missing_lead = await sqlite_hub.triage(created["id"], "multi_agency")
    assert missing_lead.status_code == 422
    no_scope = await sqlite_hub.act(
        created["id"],
        "triage",
        {"track": "signpost", "rationale": "x"},
        scopes="referrals:read referrals:write",
    )
    assert no_scope.status_code == 403


async def test_an_illegal_move_is_a_409_problem(hub: Hub) -> None:
    created = await hub.create()
    response = await hub.act(created["id"], "close")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["allowed"] == ["triage"]
    await hub.triage(created["id"])
    again = await hub.triage(created["id"])
    assert again.status_code == 409


async def test_changes_need_the_current_etag(hub: Hub) -> None:
    created = await hub.create()
    body = {"track": "signpost", "rationale": "Citizens Advice"}
    missing = await hub.act(created["id"], "triage", body, if_match=None)
    assert missing.status_code == 428
    stale = await hub.act(created["id"], "triage", body, if_match='"nope.1"')
    assert stale.status_code == 412
    assert stale.json()["etag"] == (await hub.read(created["id"])).headers["ETag"]
    current = await hub.act(created["id"], "triage", body)
    assert current.status_code == 200
    assert current.headers["ETag"] != stale.json()["etag"]
    # The ETag read before the triage no longer works.
    assert (await hub.act(created["id"], "start", if_match=stale.json()["etag"])).status_code == 412


async def test_the_whole_lifecycle_is_kept_in_history(hub: Hub) -> None:
    referral_id = (await hub.create())["id"]
    assert (await hub.triage(referral_id)).status_code == 200
    assert (await hub.act(referral_id, "start")).status_code == 200
    resolved = await hub.act(referral_id, "resolve", {"outcome_code": "resolved"})
    assert resolved.json()["status"] == "resolved"
    assert (await hub.act(referral_id, "close")).json()["status"] == "closed"
    reopened = await hub.act(referral_id, "reopen", {"reason": "Fly-tipping is back"})
    assert reopened.json()["status"] == "in_progress"
    assert reopened.json()["outcome_code"] is None

    history = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/history", headers=hub.as_("NO-HUB")
    )
    entries = history.json()
    assert [e["action"] for e in entries] == [
        "received",
        "triaged",
        "started",
        "resolved",
        "closed",
        "reopened",
    ]
    assert [e["to_status"] for e in entries] == [
        "received",
        "triaged",
        "in_progress",
        "resolved",
        "closed",
        "in_progress",
    ]
    assert {e["actor_organisation"] for e in entries} == {"NO-HUB"}
    assert all(e["at"].endswith("Z") for e in entries)
    assert entries[3]["details"] == {"outcome_code": "resolved"}


async def test_unsuccessful_outcomes_need_a_reason(hub: Hub) -> None:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id)
    response = await hub.act(referral_id, "resolve", {"outcome_code": "unable_to_contact"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    ok = await hub.act(
        referral_id,
        "resolve",
        {"outcome_code": "unable_to_contact", "reason": "Three visits, no answer"},
    )
    assert ok.status_code == 200
    read = (await hub.read(referral_id)).json()
    assert read["outcome_reason"] == "Three visits, no answer"
    assert read["allowed_actions"] == ["close", "reopen"]
