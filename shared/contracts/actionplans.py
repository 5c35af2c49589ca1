"""Events produced by the actionplans service.

Topics: `actionplans.plan` (key = plan id), `actionplans.target` (key = target id),
`actionplans.action` (key = action id). The metrics service consumes target events (to compute
RAG against SMART targets) and action events (the derived "overdue actions" indicator).
"""

from datetime import date, datetime

from shared.contracts import EventPayload

SOURCE = "/services/actionplans"
# The record key (and ce_subject) of each topic; deploy/asyncapi.py publishes it.
KEYS = {
    "actionplans.plan": "the plan id",
    "actionplans.target": "the target id",
    "actionplans.action": "the action id",
}

PLAN_CREATED_V1 = "actionplans.plan.created.v1"
PLAN_STATUS_CHANGED_V1 = "actionplans.plan.status_changed.v1"
PLAN_REVIEWED_V1 = "actionplans.plan.reviewed.v1"
PLAN_ESCALATED_V1 = "actionplans.plan.escalated.v1"
TARGET_SET_V1 = "actionplans.target.set.v1"
TARGET_OFF_TRACK_V1 = "actionplans.target.off_track.v1"
ACTION_CREATED_V1 = "actionplans.action.created.v1"
ACTION_STATUS_CHANGED_V1 = "actionplans.action.status_changed.v1"
ACTION_OVERDUE_V1 = "actionplans.action.overdue.v1"


class PlanEvent(EventPayload):
    plan_id: str
    locality_code: str
    organisation: str  # the organisation whose caller caused the event


class PlanCreatedV1(PlanEvent):
    objective_codes: list[str]
    lead_organisation: str
    status: str
    created_at: datetime


class PlanStatusChangedV1(PlanEvent):
    previous_status: str
    status: str
    changed_at: datetime


class ReviewedTargetV1(EventPayload):
    """A target as the review meeting froze it: ids, codes and numbers only."""

    target_id: str
    target_version: int | None = None
    indicator_code: str
    area_code: str
    value: float | None = None  # the latest value the meeting saw
    target_value: float | None = None
    rag: str | None = None  # red | amber | green; None when no value was known yet


class PlanReviewedV1(PlanEvent):
    review_id: str
    reviewed_on: date
    red_targets: int
    amber_targets: int
    green_targets: int
    escalated: bool
    # Each target as frozen at the meeting. Added later (additive): absent reads as [].
    targets: list[ReviewedTargetV1] = []


class PlanEscalatedV1(PlanEvent):
    review_id: str | None = None
    escalated_at: datetime
    # Who is on the plan (organisation codes), so a consumer can tell them without asking;
    # absent from events produced before these fields were added.
    lead_organisation: str | None = None
    member_organisations: list[str] = []


class TargetSetV1(PlanEvent):
    """A SMART target was set, or re-baselined (version 2+ supersedes earlier versions)."""

    target_id: str
    version: int
    indicator_code: str
    area_code: str  # usually the plan's locality code
    baseline_value: float
    baseline_period: str  # a code: "2020-09", "Wave Sep 2020" or the ISO date (period_code)
    target_value: float
    target_date: date
    amber_tolerance: float  # how far short of the target still counts as amber (indicator units)
    set_at: datetime
    # Where the trajectory starts (the end of the baseline period); absent: the day it was set.
    # Added later (additive): consumers read a missing value as None.
    baseline_on: date | None = None


class TargetOffTrackV1(PlanEvent):
    """A target turned red."""

    target_id: str
    indicator_code: str
    area_code: str
    latest_value: float | None = None
    rag: str
    detected_at: datetime


class ActionEvent(PlanEvent):
    action_id: str
    owner_organisation: str


class ActionCreatedV1(ActionEvent):
    status: str
    due_date: date | None = None
    created_at: datetime


class ActionStatusChangedV1(ActionEvent):
    previous_status: str
    status: str  # not_started | in_progress | done | blocked | cancelled
    due_date: date | None = None
    changed_at: datetime


class ActionOverdueV1(ActionEvent):
    """An action passed its due date without being done (emitted once per action)."""

    due_date: date
    detected_at: datetime
