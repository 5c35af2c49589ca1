"""Information sharing: who sees a referral, explicit shares, and the append-only audit log."""

import pytest
from sqlalchemy import text

from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

POLICE = "CLEVELAND-POLICE"
OUTSIDER = "NP-HUB"
AUDITOR = "referrals:read audit:read"


async def test_an_uninvolved_organisation_gets_404_and_an_empty_list(hub: Hub) -> None:
    referral_id = (await hub.create(org=POLICE))["id"]
    assert (await hub.read(referral_id, org=OUTSIDER)).status_code == 404
    assert (await hub.read(referral_id, org="NO-HUB")).status_code == 200  # the locality's hub
    listed = await hub.client.get("/api/v1/referrals", headers=hub.as_(OUTSIDER))
    assert listed.json()["items"] == []
    acting = await hub.act(referral_id, "notes", {"text": "hello"}, org=OUTSIDER, if_match='"x.1"')
    assert acting.status_code == 404


async def test_the_lead_and_explicit_shares_can_see_it(hub: Hub) -> None:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id, "multi_agency", lead_organisation=POLICE)
    assert (await hub.read(referral_id, org=POLICE)).status_code == 200

    assert (await hub.read(referral_id, org="CHILDRENS-CENTRE")).status_code == 404
    shared = await hub.act(
        referral_id,
        "shares",
        {
            "organisation": "CHILDRENS-CENTRE",
            "purpose": "Family support offer",
            "lawful_basis": "public_task",
            "sharing_agreement_ref": "ISA-TEES-2024-07",
        },
    )
    assert shared.status_code == 201, shared.text
    assert (await hub.read(referral_id, org="CHILDRENS-CENTRE")).status_code == 200
    shares = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/shares", headers=hub.as_("CHILDRENS-CENTRE")
    )
    assert [(s["organisation"], s["purpose"]) for s in shares.json()] == [
        ("CHILDRENS-CENTRE", "Family support offer")
    ]
    again = await hub.act(
        referral_id,
        "shares",
        {"organisation": "CHILDRENS-CENTRE", "purpose": "x", "lawful_basis": "consent"},
    )
    assert again.status_code == 409

    revoked = await hub.client.delete(
        f"/api/v1/referrals/{referral_id}/shares/CHILDRENS-CENTRE",
        headers={**hub.as_("NO-HUB"), "If-Match": await hub.etag(referral_id)},
    )
    assert revoked.status_code == 204, revoked.text
    assert (await hub.read(referral_id, org="CHILDRENS-CENTRE")).status_code == 404


async def test_a_share_needs_a_lawful_basis_and_an_owner(hub: Hub) -> None:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
    no_basis = await hub.act(
        referral_id, "shares", {"organisation": "GP-PRACTICE", "purpose": "Health check"}
    )
    assert no_basis.status_code == 422
    task = await hub.act(
        referral_id, "tasks", {"organisation": POLICE, "description": "Visit", **TASK_BASIS}
    )
    assert task.status_code == 201
    by_task_holder = await hub.act(
        referral_id,
        "shares",
        {"organisation": "GP-PRACTICE", "purpose": "x", "lawful_basis": "consent"},
        org=POLICE,
    )
    assert by_task_holder.status_code == 403


async def test_every_read_of_personal_fields_is_audited_with_its_purpose(hub: Hub) -> None:
    referral_id = (await hub.create(org=POLICE))["id"]
    await hub.client.get(
        f"/api/v1/referrals/{referral_id}",
        params={"purpose": "locality_triage"},
        headers=hub.as_("NO-HUB"),
    )
    await hub.client.get(
        f"/api/v1/referrals/{referral_id}",
        headers={**hub.as_(POLICE), "X-Purpose": "safeguarding_check"},
    )
    await hub.client.get(f"/api/v1/referrals/{referral_id}/notes", headers=hub.as_(POLICE))
    await hub.read(referral_id, org=OUTSIDER)  # refused: nothing was read
    await hub.client.get("/api/v1/referrals", headers=hub.as_(POLICE))  # no personal fields

    log = await hub.client.get(
        "/api/v1/audit", params={"referral_id": referral_id}, headers=hub.as_("NO-HUB", AUDITOR)
    )
    assert log.status_code == 200
    assert [(r["actor_organisation"], r["action"], r["purpose"]) for r in log.json()["items"]] == [
        ("NO-HUB", "read_referral", "locality_triage"),
        (POLICE, "read_referral", "safeguarding_check"),
        (POLICE, "read_notes", "case_work"),
    ]
    assert all(r["at"] == "2026-06-01T09:00:00Z" for r in log.json()["items"])


async def test_only_auditors_read_the_audit_log_and_nobody_changes_it(hub: Hub) -> None:
    referral_id = (await hub.create())["id"]
    await hub.read(referral_id)
    assert (await hub.client.get("/api/v1/audit", headers=hub.as_("NO-HUB"))).status_code == 403
    for method in ("PUT", "PATCH", "DELETE"):
        response = await hub.client.request(
            method, "/api/v1/audit", headers=hub.as_("NO-HUB", AUDITOR)
        )
        assert response.status_code == 405

    async with hub.app.state.runtime.engine.connect() as connection:
        for statement in (
            "UPDATE audit_record SET purpose = 'nothing'",
            "DELETE FROM audit_record",
        ):
            with pytest.raises(Exception, match="cannot be changed or deleted"):
                await connection.execute(text(statement))
            await connection.rollback()
    log = await hub.client.get("/api/v1/audit", headers=hub.as_("NO-HUB", AUDITOR))
    assert [r["purpose"] for r in log.json()["items"]] == ["case_work"]


async def test_the_audit_log_pages_with_a_cursor(sqlite_hub: Hub) -> None:
    referral_id = (await sqlite_hub.create())["id"]
    for _ in range(5):
        await sqlite_hub.read(referral_id)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await sqlite_hub.client.get(
                "/api/v1/audit", params=params, headers=sqlite_hub.as_("NO-HUB", AUDITOR)
            )
        ).json()
        seen += [r["seq"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen)
