"""Event payloads carry ids, codes, locality and times, never personal details or free text."""

from datetime import UTC, datetime

import orjson
import pytest

from services.referrals import events
from services.referrals.models import PartnerTask, Referral

pytestmark = pytest.mark.unit

PERSONAL = [
    "Margaret Thornton",
    "07700 900123",
    "14 Thorne Road",
    "DN1 2HD",
    "Shouting at night",
    "neighbour is frightened",
    "Sgt Alan Bates",
    "called twice, no answer",
    "Resident asked us to stop",
    "knows the family well",
]
AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def referral_full_of_personal_details() -> Referral:
    return Referral(
        id="r-1",
        reference="DNC-2026-000001",
        locality_code="DNC",
        channel="phone",
        category_codes=["anti_social_behaviour"],
        summary=PERSONAL[4],
        description=PERSONAL[5],
        status="resolved",
        received_at=AT,
        created_by_organisation="SYP",
        created_by_subject="user:alan",
        referrer={"name": PERSONAL[6], "organisation": "SYP", "contact": PERSONAL[1]},
        subject_person={"kind": "person", "name": PERSONAL[0], "contact": PERSONAL[1]},
        place_address=PERSONAL[2],
        place_postcode=PERSONAL[3],
        uprn="100050123456",
        risk_flags=["urgent"],
        repeat_of=["r-0"],
        coordinating_organisation="DNC-HUB",
        suggested_track="see_and_solve",
        suggestion_rule="default_see_and_solve",
        track="see_and_solve",
        triage_rationale=PERSONAL[9],
        lead_organisation=None,
        triaged_at=AT,
        clock="see_and_solve",
        due_at=AT,
        outcome_code="declined_by_resident",
        outcome_reason=PERSONAL[8],
        resolved_at=AT,
        closed_at=AT,
        version=3,
    )


def task_full_of_personal_details() -> PartnerTask:
    return PartnerTask(
        id="t-1",
        referral_id="r-1",
        organisation="STREET-WARDENS",
        description=PERSONAL[5],
        status="completed",
        assigned_at=AT,
        assigned_by_subject="user:x",
        assigned_by_organisation="DNC-HUB",
        completed_at=AT,
        outcome_code="unable_to_contact",
        outcome_note=PERSONAL[7],
    )


def every_event() -> list:
    referral, task = referral_full_of_personal_details(), task_full_of_personal_details()
    return [
        events.referral_received(referral),
        events.referral_triaged(referral, "DNC-HUB"),
        events.task_assigned(referral, task, "DNC-HUB"),
        events.task_completed(referral, task, "STREET-WARDENS"),
        events.referral_resolved(referral, "DNC-HUB", within_due=True),
        events.referral_closed(referral, "DNC-HUB"),
        events.referral_reopened(referral, "DNC-HUB", AT),
        events.referral_overdue(referral, AT),
    ]


def test_every_event_type_is_built_and_keyed_by_the_referral() -> None:
    built = every_event()
    assert [e.type.split(".")[2] for e in built] == [
        "received",
        "triaged",
        "task_assigned",
        "task_completed",
        "resolved",
        "closed",
        "reopened",
        "overdue",
    ]
    assert {e.subject for e in built} == {"r-1"}
    assert {e.topic for e in built} == {"referrals.referral"}


@pytest.mark.parametrize("text", PERSONAL)
def test_no_event_carries_personal_details_or_free_text(text: str) -> None:
    serialised = orjson.dumps([e.data for e in every_event()]).decode()
    assert text not in serialised
    assert "100050123456" not in serialised  # not even the UPRN: it locates a home
