"""Request and response models of the action plans API."""

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.actionplans.domain import (
    ActionStatus,
    Direction,
    DirectionSource,
    PlanStatus,
    Rag,
    ReviewCadence,
)
from shared.input_rules import OrganisationCode, PlainTextModel

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ReferralId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null on the last)."""

    items: list[ItemT]
    next_cursor: str | None = None


class Objective(BaseModel):
    code: str
    title: str


class ObjectiveList(BaseModel):
    items: list[Objective]


class RequestModel(PlainTextModel):
    model_config = ConfigDict(extra="forbid")


class PartialUpdate(RequestModel):
    @model_validator(mode="after")
    def _at_least_one_field(self) -> "PartialUpdate":
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


# Plans ------------------------------------------------------------------------------------


class PlanCreate(RequestModel):
    title: ShortText = Field(examples=["People feel safe"])
    locality_code: str = Field(min_length=1, max_length=16, examples=["NP"])
    objective_codes: list[str] = Field(min_length=1, examples=[["people_feel_safe"]])
    lead_person: ShortText = Field(examples=["Neighbourhood Inspector, Newport"])
    lead_organisation: OrganisationCode = Field(examples=["CLEVELAND-POLICE"])
    member_organisations: list[OrganisationCode] = Field(default_factory=list, max_length=50)
    status: PlanStatus = PlanStatus.DRAFT
    review_cadence: ReviewCadence = ReviewCadence.MONTHLY
    next_review_on: date | None = Field(
        default=None, description="Defaults to one cadence (a month) from today."
    )


class PlanUpdate(PartialUpdate):
    title: ShortText | None = None
    objective_codes: list[str] | None = Field(default=None, min_length=1)
    lead_person: ShortText | None = None
    lead_organisation: OrganisationCode | None = None
    member_organisations: list[OrganisationCode] | None = Field(default=None, max_length=50)
    status: PlanStatus | None = None
    review_cadence: ReviewCadence | None = None
    next_review_on: date | None = None


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    locality_code: str
    objective_codes: list[str]
    lead_person: str
    lead_organisation: str
    member_organisations: list[str]
    status: PlanStatus
    review_cadence: ReviewCadence
    next_review_on: date | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(
        description="The plan's version (its ETag); with `as_of`, the version it had then."
    )
    as_of: datetime | None = Field(
        default=None,
        description="The moment this plan is answered for: null for now; with `as_of`, the "
        "plan as it stood then, replayed from its history.",
    )


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    changed_at: datetime
    subject: str
    organisation: str
    change: str
    entity_id: str
    details: dict[str, Any]


class RagCounts(BaseModel):
    red: int = 0
    amber: int = 0
    green: int = 0
    no_data: int = 0


class PlanSummary(BaseModel):
    """A plan as the strategic group sees it: lead, RAG of its targets, overdue actions."""

    plan_id: str
    title: str
    status: PlanStatus
    objective_codes: list[str]
    lead_person: str
    lead_organisation: str
    targets: RagCounts
    open_actions: int
    overdue_actions: int
    next_review_on: date | None
    review_due: bool


# Targets ----------------------------------------------------------------------------------


class TargetCreate(RequestModel):
    """Indicator, baseline, target value and date are all needed; the API says what is missing."""

    indicator_code: str | None = Field(default=None, max_length=100, examples=["feel_safe_day"])
    area_code: str | None = Field(
        default=None, max_length=32, description="Defaults to the plan's locality."
    )
    description: LongText | None = None
    baseline_value: float | None = Field(default=None, allow_inf_nan=False, examples=[31.18])
    baseline_period: str | None = Field(default=None, max_length=100, examples=["Sept 2020"])
    baseline_on: date | None = Field(
        default=None, description="Last day of the baseline period: where the trajectory starts."
    )
    target_value: float | None = Field(default=None, allow_inf_nan=False, examples=[60.0])
    target_date: date | None = None
    amber_tolerance: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    desired_direction: Direction | None = Field(
        default=None,
        description="Only used while the metrics service has not yet published the indicator.",
    )


class TargetRebaseline(RequestModel):
    """A new baseline; target value, date and tolerance carry over unless given."""

    baseline_value: float = Field(allow_inf_nan=False)
    baseline_period: ShortText
    baseline_on: date | None = None
    target_value: float | None = Field(default=None, allow_inf_nan=False)
    target_date: date | None = None
    amber_tolerance: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    reason: LongText


class TargetVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    baseline_value: float
    baseline_period: str
    baseline_on: date | None
    target_value: float
    target_date: date
    amber_tolerance: float
    reason: str | None
    set_at: datetime
    set_by_organisation: str


class RatedAtReview(BaseModel):
    """The review whose frozen snapshot gives a target's value and RAG as at a past moment."""

    review_id: str
    held_on: date


class TargetRead(BaseModel):
    id: str
    plan_id: str
    indicator_code: str
    unit: str | None = Field(
        description="The indicator's unit, once the metrics service has published it."
    )
    area_code: str
    description: str | None
    desired_direction: Direction
    direction_source: DirectionSource
    current: TargetVersionRead = Field(
        description="The numbers of the version in force (now, or at `as_of`)."
    )
    version_in_force: int = Field(
        description="Which version of the numbers is in force: the current one, or with "
        "`as_of` the highest version set on or before then."
    )
    current_value: float | None
    current_period_label: str | None
    expected_value: float | None = Field(
        description="Where the trajectory says the indicator should be for the latest period."
    )
    gap_to_target: float | None
    rag: Rag | None
    trend: str | None = Field(description="Live trend; null with `as_of` (not kept over time).")
    version: int = Field(description="The target's row version now (its ETag), also with `as_of`.")
    as_of: datetime | None = Field(
        default=None,
        description="The moment this target is answered for: null for now. With `as_of`, the "
        "value, expected value and RAG are those frozen at `rated_at_review`.",
    )
    rated_at_review: RatedAtReview | None = Field(
        default=None,
        description="With `as_of`: the last review held on or before then (and recorded by "
        "then) that froze the target; null if none had, and then value and RAG are null.",
    )


# Actions ----------------------------------------------------------------------------------


class ActionCreate(RequestModel):
    description: LongText
    owner_organisation: OrganisationCode
    due_on: date | None = None
    status: ActionStatus = ActionStatus.NOT_STARTED
    referral_ids: list[ReferralId] = Field(default_factory=list, max_length=200)


class ActionUpdate(PartialUpdate):
    description: LongText | None = None
    owner_organisation: OrganisationCode | None = None
    due_on: date | None = None
    status: ActionStatus | None = None
    referral_ids: list[ReferralId] | None = Field(default=None, max_length=200)


class ActionNoteCreate(RequestModel):
    text: LongText


class ActionNoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    written_at: datetime
    organisation: str


class ActionRead(BaseModel):
    id: str
    plan_id: str
    description: str
    owner_organisation: str
    due_on: date | None
    status: ActionStatus
    overdue: bool
    referral_ids: list[str]
    created_at: datetime
    updated_at: datetime
    version: int
    notes: list[ActionNoteRead] | None = Field(
        default=None, description="Progress notes, oldest first (on the single-action read)."
    )


# Reviews ----------------------------------------------------------------------------------


class ReviewCreate(RequestModel):
    held_on: date
    organisations_present: list[OrganisationCode] = Field(min_length=1, max_length=50)
    commentary: LongText | None = None
    decisions: list[LongText] = Field(default_factory=list, max_length=100)
    escalations: list[LongText] = Field(
        default_factory=list, max_length=100, description="Items raised to the strategic group."
    )


class TargetSnapshot(BaseModel):
    """A target as the meeting saw it: frozen, never recomputed."""

    target_id: str
    target_version: int
    indicator_code: str
    area_code: str
    value: float | None
    period_label: str | None
    expected_value: float | None
    target_value: float
    target_date: date
    rag: Rag | None


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    plan_id: str
    held_on: date
    organisations_present: list[str]
    target_snapshots: list[TargetSnapshot]
    commentary: str | None
    decisions: list[str]
    escalations: list[str]
    escalated: bool
    created_at: datetime
    recorded_by_organisation: str
