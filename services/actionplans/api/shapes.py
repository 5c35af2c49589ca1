"""Response bodies built from the use cases' results (the use cases return rows, not bodies)."""

from collections.abc import Sequence
from datetime import date, datetime

from services.actionplans import domain
from services.actionplans.models import Action, ActionNote
from services.actionplans.schemas import (
    ActionNoteRead,
    ActionRead,
    PlanSummary,
    RagCounts,
    RatedAtReview,
    TargetRead,
    TargetVersionRead,
)
from services.actionplans.service.live_status import trajectory
from services.actionplans.service.plans import PlanStanding
from services.actionplans.service.targets import TargetState


def target_read(state: TargetState) -> TargetRead:
    if state.as_of is not None:
        return _target_read_as_of(state, state.as_of)
    target, version, unit = state.target, state.version, state.unit
    line = trajectory(target, version)
    has_value = target.current_value is not None and target.current_period_end is not None
    return TargetRead(
        id=target.id,
        plan_id=target.plan_id,
        indicator_code=target.indicator_code,
        unit=unit,
        area_code=target.area_code,
        description=target.description,
        desired_direction=domain.Direction(target.desired_direction),
        direction_source=domain.DirectionSource(target.direction_source),
        current=TargetVersionRead.model_validate(version),
        version_in_force=version.version,
        current_value=target.current_value,
        current_period_label=target.current_period_label,
        expected_value=(
            round(line.expected_on(target.current_period_end), 4)
            if has_value and target.current_period_end
            else None
        ),
        gap_to_target=(
            line.gap_to_target(target.current_value) if target.current_value is not None else None
        ),
        rag=domain.Rag(target.rag) if target.rag else None,
        trend=target.trend,
        version=target.version,
    )


def _target_read_as_of(state: TargetState, as_of: datetime) -> TargetRead:
    """The target at `as_of`: the version then in force, value and RAG as the last review froze."""
    target, version, review = state.target, state.version, state.review
    snapshots = review.target_snapshots if review else []
    frozen = next((s for s in snapshots if s["target_id"] == target.id), None)
    value = frozen["value"] if frozen else None
    return TargetRead(
        id=target.id,
        plan_id=target.plan_id,
        indicator_code=target.indicator_code,
        unit=state.unit,
        area_code=target.area_code,
        description=target.description,
        desired_direction=domain.Direction(target.desired_direction),
        direction_source=domain.DirectionSource(target.direction_source),
        current=TargetVersionRead.model_validate(version),
        version_in_force=version.version,
        current_value=value,
        current_period_label=frozen["period_label"] if frozen else None,
        expected_value=frozen["expected_value"] if frozen else None,
        gap_to_target=trajectory(target, version).gap_to_target(value)
        if value is not None
        else None,
        rag=domain.Rag(frozen["rag"]) if frozen and frozen["rag"] else None,
        trend=None,
        version=target.version,
        as_of=as_of,
        rated_at_review=(
            RatedAtReview(review_id=review.id, held_on=review.held_on)
            if review and frozen
            else None
        ),
    )


def action_read(
    action: Action, today: date, notes: Sequence[ActionNote] | None = None
) -> ActionRead:
    """An action as read on `today` (its overdue flag depends on the day), with its notes."""
    return ActionRead(
        id=action.id,
        plan_id=action.plan_id,
        description=action.description,
        owner_organisation=action.owner_organisation,
        due_on=action.due_on,
        status=domain.ActionStatus(action.status),
        overdue=domain.is_overdue(action.due_on, action.status, today),
        referral_ids=list(action.referral_ids),
        created_at=action.created_at,
        updated_at=action.updated_at,
        version=action.version,
        notes=None if notes is None else [ActionNoteRead.model_validate(n) for n in notes],
    )


def plan_summary(standing: PlanStanding) -> PlanSummary:
    plan, rags = standing.plan, standing.rag_counts
    return PlanSummary(
        plan_id=plan.id,
        title=plan.title,
        status=domain.PlanStatus(plan.status),
        objective_codes=plan.objective_codes,
        lead_person=plan.lead_person,
        lead_organisation=plan.lead_organisation,
        targets=RagCounts(
            red=rags.get("red", 0),
            amber=rags.get("amber", 0),
            green=rags.get("green", 0),
            no_data=rags.get(None, 0),
        ),
        open_actions=standing.open_actions,
        overdue_actions=standing.overdue_actions,
        next_review_on=plan.next_review_on,
        review_due=standing.review_due,
    )
