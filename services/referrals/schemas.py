"""Request and response models of the referrals API."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.referrals.domain import (
    Channel,
    LawfulBasis,
    OutcomeCode,
    ReferralStatus,
    RiskFlag,
    TaskStatus,
    Track,
    as_utc,
)
from shared.input_rules import DateOfBirth, OrganisationCode, PlainTextModel

UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class Strict(PlainTextModel):
    model_config = ConfigDict(extra="forbid")


class Referrer(Strict):
    name: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=200, description="phone or email")


class SubjectPerson(Strict):
    kind: str = Field(default="person", pattern="^(person|household)$")
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: DateOfBirth | None = None
    contact: str | None = Field(default=None, max_length=200)


class Place(Strict):
    address: str = Field(min_length=1, max_length=500)
    postcode: str | None = Field(default=None, max_length=10)
    uprn: str | None = Field(default=None, pattern=r"^\d{1,12}$", examples=["100110660543"])
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _coordinates_come_in_pairs(self) -> "Place":
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class Subject(Strict):
    person: SubjectPerson | None = None
    place: Place | None = None


class ReferralCreate(Strict):
    locality_code: str = Field(min_length=1, max_length=16, examples=["NO"])
    channel: Channel
    category_codes: list[str] = Field(
        min_length=1, max_length=10, examples=[["anti_social_behaviour", "fly_tipping"]]
    )
    summary: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    referrer: Referrer | None = None
    subject: Subject | None = None
    risk_flags: list[RiskFlag] = Field(default_factory=list)
    lawful_basis: LawfulBasis = LawfulBasis.PUBLIC_TASK
    sharing_agreement_ref: str | None = Field(default=None, max_length=100)
    external_ref: str | None = Field(default=None, max_length=200)


class RepeatDemand(BaseModel):
    count: int
    referral_ids: list[str]
    window_days: int


class ClockRead(BaseModel):
    name: str
    due_at: UtcDatetime
    stopped_at: UtcDatetime | None
    overdue: bool


class ReferralSummary(BaseModel):
    """A referral without personal fields: what lists show."""

    id: str
    reference: str
    locality_code: str
    channel: Channel
    category_codes: list[str]
    risk_flags: list[str]
    status: ReferralStatus
    suggested_track: Track | None
    suggestion_rule: str | None
    track: Track | None
    lead_organisation: str | None
    received_at: UtcDatetime
    triaged_at: UtcDatetime | None
    clock: ClockRead | None
    outcome_code: OutcomeCode | None
    resolved_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    external_ref: str | None
    version: int


class ReferralRead(ReferralSummary):
    """A referral with its personal fields (every read of them is audited)."""

    summary: str
    description: str | None
    referrer: Referrer | None
    subject: Subject | None
    lawful_basis: LawfulBasis
    sharing_agreement_ref: str | None
    created_by_organisation: str
    coordinating_organisation: str | None
    triage_rationale: str | None
    triaged_by_subject: str | None
    triaged_by_organisation: str | None
    outcome_reason: str | None
    repeat_demand: RepeatDemand
    allowed_actions: list[str]


class ReferralPage(BaseModel):
    items: list[ReferralSummary]
    next_cursor: str | None


class TriageRequest(Strict):
    track: Track
    rationale: str = Field(min_length=1, max_length=4000)
    lead_organisation: OrganisationCode | None = None

    @model_validator(mode="after")
    def _multi_agency_needs_a_lead(self) -> "TriageRequest":
        if self.track is Track.MULTI_AGENCY and not self.lead_organisation:
            raise ValueError("lead_organisation is required for the multi_agency track")
        return self


class ResolveRequest(Strict):
    outcome_code: OutcomeCode
    reason: str | None = Field(default=None, max_length=4000)


class ReopenRequest(Strict):
    reason: str = Field(min_length=1, max_length=4000)


class TaskCreate(Strict):
    organisation: OrganisationCode
    description: str = Field(min_length=1, max_length=4000)
    due_at: UtcDatetime | None = None
    # A task discloses the referral to the organisation: recorded like a share.
    purpose: str = Field(min_length=1, max_length=200)
    lawful_basis: LawfulBasis
    sharing_agreement_ref: str | None = Field(default=None, max_length=100)


class TaskWithdraw(Strict):
    reason: str = Field(min_length=1, max_length=4000)


class TaskDecline(Strict):
    reason: str = Field(min_length=1, max_length=4000)


class TaskComplete(Strict):
    outcome_code: OutcomeCode
    note: str | None = Field(default=None, max_length=4000)


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    referral_id: str
    organisation: str
    description: str
    status: TaskStatus
    due_at: UtcDatetime | None
    assigned_at: UtcDatetime
    assigned_by_organisation: str
    accepted_at: UtcDatetime | None
    declined_at: UtcDatetime | None
    decline_reason: str | None
    completed_at: UtcDatetime | None
    outcome_code: OutcomeCode | None
    outcome_note: str | None
    purpose: str | None = None
    lawful_basis: LawfulBasis | None = None
    sharing_agreement_ref: str | None = None
    withdrawn_at: UtcDatetime | None = None
    withdraw_reason: str | None = None


class NoteCreate(Strict):
    text: str = Field(min_length=1, max_length=20_000)


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    referral_id: str
    text: str
    written_at: UtcDatetime
    author_subject: str
    author_organisation: str


class ShareCreate(Strict):
    organisation: OrganisationCode
    purpose: str = Field(min_length=1, max_length=200)
    lawful_basis: LawfulBasis
    sharing_agreement_ref: str | None = Field(default=None, max_length=100)


class ShareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    referral_id: str
    organisation: str
    purpose: str
    lawful_basis: LawfulBasis
    sharing_agreement_ref: str | None
    shared_at: UtcDatetime
    shared_by_organisation: str


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: UtcDatetime
    actor_subject: str
    actor_organisation: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: UtcDatetime
    actor_subject: str
    actor_organisation: str
    referral_id: str
    action: str
    purpose: str


class AuditPage(BaseModel):
    items: list[AuditRead]
    next_cursor: str | None


class OverdueCheckResult(BaseModel):
    notified: int
    tasks_notified: int = 0  # open partner tasks newly past their due time
    checked_at: UtcDatetime
