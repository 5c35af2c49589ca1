"""Every lifecycle event reaches Kafka through the outbox, without personal details."""

from datetime import timedelta

import pytest

from tests.event_waits import event_matching, wait_for_events
from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

PERSONAL = [
    "Margaret Thornton",
    "07700 900123",
    "14 Thorne Road",
    "Shouting every night",
    "Frightened to go out",
    "PC Alan Bates",
    "Spoke to her daughter",
    "Moved to sheltered housing",
]


async def test_a_referral_lifecycle_publishes_every_event_once_and_nothing_personal(
    hub: Hub, kafka: str
) -> None:
    created = await hub.create(
        org="CLEVELAND-POLICE",
        summary=PERSONAL[3],
        description=PERSONAL[4],
        referrer={"name": PERSONAL[5], "contact": PERSONAL[1]},
        subject={
            "person": {"name": PERSONAL[0], "date_of_birth": "1938-05-06", "contact": PERSONAL[1]},
            "place": {"address": PERSONAL[2], "uprn": "100050123456"},
        },
        risk_flags=["urgent"],
    )
    referral_id = created["id"]
    triaged = await hub.triage(
        referral_id, "multi_agency", rationale=PERSONAL[4], lead_organisation="NO-HUB"
    )
    assert triaged.status_code == 200, triaged.text
    hub.now += timedelta(days=3)  # the first-contact clock runs out
    await hub.client.post("/api/v1/referrals/overdue-checks", headers=hub.as_("NO-HUB"))
    await hub.client.post("/api/v1/referrals/overdue-checks", headers=hub.as_("NO-HUB"))
    task = (
        await hub.act(
            referral_id,
            "tasks",
            {"organisation": "AGE-UK", "description": PERSONAL[6], **TASK_BASIS},
        )
    ).json()
    await hub.act(referral_id, f"tasks/{task['id']}/accept", org="AGE-UK")
    await hub.act(
        referral_id,
        f"tasks/{task['id']}/complete",
        {"outcome_code": "referred_on", "note": PERSONAL[7]},
        org="AGE-UK",
    )
    await hub.act(referral_id, "notes", {"text": PERSONAL[6]})
    await hub.act(referral_id, "resolve", {"outcome_code": "referred_on", "reason": PERSONAL[7]})
    await hub.act(referral_id, "close")
    await hub.act(referral_id, "reopen", {"reason": PERSONAL[3]})

    expected = [
        "received",
        "triaged",
        "overdue",
        "task_assigned",
        "task_completed",
        "resolved",
        "closed",
        "reopened",
    ]

    published = await wait_for_events(
        kafka, "referrals.referral", match=event_matching(subject=referral_id), count=len(expected)
    )
    assert [e.type.split(".")[2] for e in published] == expected
    overdue = published[2].data
    assert overdue["clock"] == "first_partner_contact"
    assert overdue["due_at"] == "2026-06-03T16:00:00Z"
    assert published[5].data["within_due"] is None
    assert published[5].data["outcome_code"] == "referred_on"
    assert {e.data["locality_code"] for e in published} == {"NO"}
    for event in published:
        flat = str(event.data)
        for text in [*PERSONAL, "100050123456", "1938-05-06"]:
            assert text not in flat, (event.type, text)
