"""Outgoing events of the actionplans service, built from the shared contracts.

Payloads carry ids, codes and dates only: never titles, descriptions, notes or commentary.
"""

from datetime import datetime
from typing import Any

from services.actionplans.models import Action, Plan, Review, Target, TargetVersion
from shared.contracts import period_code
from shared.contracts.actionplans import (
    ACTION_CREATED_V1,
    ACTION_OVERDUE_V1,
    ACTION_STATUS_CHANGED_V1,
    PLAN_CREATED_V1,
    PLAN_ESCALATED_V1,
    PLAN_REVIEWED_V1,
    PLAN_STATUS_CHANGED_V1,
    SOURCE,
    TARGET_OFF_TRACK_V1,
    TARGET_SET_V1,
    ActionCreatedV1,
    ActionOverdueV1,
    ActionStatusChangedV1,
    PlanCreatedV1,
    PlanEscalatedV1,
    PlanReviewedV1,
    PlanStatusChangedV1,
    ReviewedTargetV1,
    TargetOffTrackV1,
    TargetSetV1,
)
from shared.events import EventEnvelope, new_event

# Events caused by the service itself (a metrics event, the clock) rather than by a caller.
SYSTEM_ORGANISATION = "SYSTEM"


def plan_created(plan: Plan, organisation: str) -> EventEnvelope:
    payload = PlanCreatedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        objective_codes=list(plan.objective_codes),
        lead_organisation=plan.lead_organisation,
        status=plan.status,
        created_at=plan.created_at,
    )
    return new_event(SOURCE, PLAN_CREATED_V1, plan.id, payload)


def plan_status_changed(
    plan: Plan, previous_status: str, organisation: str, at: datetime
) -> EventEnvelope:
    payload = PlanStatusChangedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        previous_status=previous_status,
        status=plan.status,
        changed_at=at,
    )
    return new_event(SOURCE, PLAN_STATUS_CHANGED_V1, plan.id, payload)


def plan_reviewed(
    plan: Plan, review: Review, organisation: str, rag_counts: dict[str, int]
) -> EventEnvelope:
    payload = PlanReviewedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        review_id=review.id,
        reviewed_on=review.held_on,
        red_targets=rag_counts.get("red", 0),
        amber_targets=rag_counts.get("amber", 0),
        green_targets=rag_counts.get("green", 0),
        escalated=review.escalated,
        targets=[_reviewed_target(s) for s in review.target_snapshots],
    )
    return new_event(SOURCE, PLAN_REVIEWED_V1, plan.id, payload)


def _reviewed_target(snapshot: dict[str, Any]) -> ReviewedTargetV1:
    """The stored snapshot's ids, codes and numbers (its period label stays off the wire)."""
    return ReviewedTargetV1(
        target_id=snapshot["target_id"],
        target_version=snapshot.get("target_version"),
        indicator_code=snapshot["indicator_code"],
        area_code=snapshot["area_code"],
        value=snapshot.get("value"),
        target_value=snapshot.get("target_value"),
        rag=snapshot.get("rag"),
    )


def plan_escalated(plan: Plan, review: Review, organisation: str) -> EventEnvelope:
    payload = PlanEscalatedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        review_id=review.id,
        escalated_at=review.created_at,
        lead_organisation=plan.lead_organisation,
        member_organisations=list(plan.member_organisations),
    )
    return new_event(SOURCE, PLAN_ESCALATED_V1, plan.id, payload)


def target_set(
    plan: Plan, target: Target, version: TargetVersion, organisation: str
) -> EventEnvelope:
    payload = TargetSetV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        target_id=target.id,
        version=version.version,
        indicator_code=target.indicator_code,
        area_code=target.area_code,
        baseline_value=version.baseline_value,
        baseline_period=period_code(version.baseline_period, version.baseline_on),
        target_value=version.target_value,
        target_date=version.target_date,
        amber_tolerance=version.amber_tolerance,
        set_at=version.set_at,
        baseline_on=version.baseline_on,
    )
    return new_event(SOURCE, TARGET_SET_V1, target.id, payload)


def target_off_track(plan: Plan, target: Target, at: datetime) -> EventEnvelope:
    payload = TargetOffTrackV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=SYSTEM_ORGANISATION,
        target_id=target.id,
        indicator_code=target.indicator_code,
        area_code=target.area_code,
        latest_value=target.current_value,
        rag=target.rag or "red",
        detected_at=at,
    )
    return new_event(SOURCE, TARGET_OFF_TRACK_V1, target.id, payload)


def action_created(plan: Plan, action: Action, organisation: str) -> EventEnvelope:
    payload = ActionCreatedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        action_id=action.id,
        owner_organisation=action.owner_organisation,
        status=action.status,
        due_date=action.due_on,
        created_at=action.created_at,
    )
    return new_event(SOURCE, ACTION_CREATED_V1, action.id, payload)


def action_status_changed(
    plan: Plan, action: Action, previous_status: str, organisation: str, at: datetime
) -> EventEnvelope:
    payload = ActionStatusChangedV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=organisation,
        action_id=action.id,
        owner_organisation=action.owner_organisation,
        previous_status=previous_status,
        status=action.status,
        due_date=action.due_on,
        changed_at=at,
    )
    return new_event(SOURCE, ACTION_STATUS_CHANGED_V1, action.id, payload)


def action_overdue(plan: Plan, action: Action, at: datetime) -> EventEnvelope:
    assert action.due_on is not None
    payload = ActionOverdueV1(
        plan_id=plan.id,
        locality_code=plan.locality_code,
        organisation=SYSTEM_ORGANISATION,
        action_id=action.id,
        owner_organisation=action.owner_organisation,
        due_date=action.due_on,
        detected_at=at,
    )
    return new_event(SOURCE, ACTION_OVERDUE_V1, action.id, payload)
