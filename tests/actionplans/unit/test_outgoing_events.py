"""Outgoing payloads follow the shared contracts and carry codes, never free text."""

from datetime import UTC, date, datetime

import pytest

from services.actionplans import events
from services.actionplans.models import Action, Plan, Review, Target, TargetVersion
from shared.contracts.actionplans import (
    ActionOverdueV1,
    PlanCreatedV1,
    PlanEscalatedV1,
    PlanReviewedV1,
    TargetOffTrackV1,
    TargetSetV1,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAN = Plan(
    id="p1",
    title="Drugs and drug-related issues",
    locality_code="NO",
    objective_codes=["people_feel_safe"],
    lead_person="Sergeant, North Ormesby NPT",
    lead_organisation="CLEVELAND-POLICE",
    member_organisations=["MIDDLESBROUGH-COUNCIL"],
    status="active",
    review_cadence="monthly",
    created_at=NOW,
)
TARGET = Target(
    id="t1",
    plan_id="p1",
    indicator_code="asb_incidents",
    area_code="NO",
    current_value=98.0,
    rag="red",
)


def test_plan_created_names_codes_not_the_title_or_lead_person() -> None:
    envelope = events.plan_created(PLAN, "CLEVELAND-POLICE")

    payload = PlanCreatedV1.model_validate(envelope.data)

    assert (envelope.topic, envelope.subject) == ("actionplans.plan", "p1")
    assert payload.objective_codes == ["people_feel_safe"]
    flat = str(envelope.data)
    assert "Drugs" not in flat and "Sergeant" not in flat


def test_plan_escalated_names_the_organisations_on_the_plan_not_the_escalations() -> None:
    review = Review(
        id="r1",
        plan_id="p1",
        escalations=["Lighting in the back alleys needs capital funding"],
        escalated=True,
        created_at=NOW,
    )
    envelope = events.plan_escalated(PLAN, review, "MIDDLESBROUGH-COUNCIL")

    payload = PlanEscalatedV1.model_validate(envelope.data)

    assert (envelope.topic, envelope.subject) == ("actionplans.plan", "p1")
    assert (payload.review_id, payload.escalated_at) == ("r1", NOW)
    assert payload.lead_organisation == "CLEVELAND-POLICE"
    assert payload.member_organisations == ["MIDDLESBROUGH-COUNCIL"]
    assert "Lighting" not in str(envelope.data) and "Sergeant" not in str(envelope.data)


def test_target_set_and_off_track_follow_the_contract() -> None:
    version = TargetVersion(
        target_id="t1",
        version=2,
        baseline_value=157,
        baseline_period="Q1 2020/21",
        target_value=60,
        target_date=date(2022, 3, 31),
        amber_tolerance=10,
        set_at=NOW,
    )

    target_set = TargetSetV1.model_validate(events.target_set(PLAN, TARGET, version, "X").data)
    off_track = TargetOffTrackV1.model_validate(events.target_off_track(PLAN, TARGET, NOW).data)

    assert (target_set.version, target_set.area_code, target_set.amber_tolerance) == (2, "NO", 10)
    assert (off_track.rag, off_track.latest_value, off_track.organisation) == (
        "red",
        98.0,
        "SYSTEM",
    )


def test_action_overdue_carries_the_due_date_and_owner() -> None:
    action = Action(
        id="a1",
        plan_id="p1",
        owner_organisation="MIDDLESBROUGH-COUNCIL",
        due_on=date(2026, 11, 1),
        status="in_progress",
        description="Secret text",
    )

    envelope = events.action_overdue(PLAN, action, NOW)

    payload = ActionOverdueV1.model_validate(envelope.data)
    assert (payload.due_date, payload.owner_organisation) == (
        date(2026, 11, 1),
        "MIDDLESBROUGH-COUNCIL",
    )
    assert "Secret" not in str(envelope.data)


def test_plan_reviewed_carries_each_target_as_frozen_without_labels_or_commentary() -> None:
    snapshot = {
        "target_id": "t1",
        "target_version": 2,
        "indicator_code": "asb_incidents",
        "area_code": "NO",
        "value": 98.0,
        "period_label": "Quarter typed by hand",
        "expected_value": 90.5,
        "target_value": 60.0,
        "target_date": "2022-03-31",
        "rag": "red",
    }
    review = Review(
        id="r1",
        plan_id="p1",
        held_on=date(2026, 11, 16),
        target_snapshots=[snapshot],
        commentary="Secret commentary",
        escalated=False,
        created_at=NOW,
    )

    envelope = events.plan_reviewed(PLAN, review, "CLEVELAND-POLICE", {"red": 1})

    payload = PlanReviewedV1.model_validate(envelope.data)
    assert (payload.reviewed_on, payload.red_targets) == (date(2026, 11, 16), 1)
    [target] = payload.targets
    assert (target.target_id, target.target_version, target.indicator_code) == (
        "t1",
        2,
        "asb_incidents",
    )
    assert (target.area_code, target.value, target.target_value, target.rag) == (
        "NO",
        98.0,
        60.0,
        "red",
    )
    flat = str(envelope.data)
    assert "Secret" not in flat and "typed by hand" not in flat


def test_a_reviewed_event_from_before_the_targets_were_added_reads_as_no_targets() -> None:
    data = events.plan_reviewed(
        PLAN,
        Review(id="r1", held_on=date(2026, 11, 16), target_snapshots=[], escalated=False),
        "X",
        {},
    ).data
    older = {key: value for key, value in data.items() if key != "targets"}

    assert PlanReviewedV1.model_validate(older).targets == []
