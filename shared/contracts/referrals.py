"""Events produced by the referrals service (topic `referrals.referral`, key = referral id).

Payloads carry ids, codes, locality and timestamps only: never names, addresses, contacts or
free text (summaries, rationales, notes). Consumers ignore fields they do not know.
"""

from datetime import datetime

from shared.contracts import EventPayload

SOURCE = "/services/referrals"
TOPIC = "referrals.referral"
# The record key (and ce_subject) of each topic; deploy/asyncapi.py publishes it.
KEYS = {TOPIC: "the referral id"}

REFERRAL_RECEIVED_V1 = "referrals.referral.received.v1"
REFERRAL_TRIAGED_V1 = "referrals.referral.triaged.v1"
REFERRAL_TASK_ASSIGNED_V1 = "referrals.referral.task_assigned.v1"
REFERRAL_TASK_COMPLETED_V1 = "referrals.referral.task_completed.v1"
REFERRAL_RESOLVED_V1 = "referrals.referral.resolved.v1"
REFERRAL_CLOSED_V1 = "referrals.referral.closed.v1"
REFERRAL_REOPENED_V1 = "referrals.referral.reopened.v1"
REFERRAL_OVERDUE_V1 = "referrals.referral.overdue.v1"
REFERRAL_STATE_ANNOUNCED_V1 = "referrals.referral.state_announced.v1"
REFERRAL_TASK_OVERDUE_V1 = "referrals.referral.task_overdue.v1"
REFERRAL_SHARED_V1 = "referrals.referral.shared.v1"
REFERRAL_SHARE_REVOKED_V1 = "referrals.referral.share_revoked.v1"

# Track codes used in REFERRAL_TRIAGED_V1.track
TRACKS = ("see_and_solve", "multi_agency", "signpost", "no_further_action", "escalate_statutory")
# Channel codes used in REFERRAL_RECEIVED_V1.channel (a test checks the referrals service agrees)
CHANNELS = (
    "phone", "email", "walk_in", "online", "social_media", "councillor", "partner_system",
    "professional", "open311",
)  # fmt: skip


class ReferralEvent(EventPayload):
    """Fields every referral event carries."""

    referral_id: str
    reference: str
    locality_code: str
    organisation: str  # the organisation whose caller caused the event


class ReferralReceivedV1(ReferralEvent):
    """A referral arrived at the single point of contact."""

    channel: str
    category_codes: list[str]
    risk_flags: list[str] = []
    received_at: datetime
    repeat_of: list[str] = []  # ids of earlier referrals for the same place or person
    suggested_track: str | None = None
    suggestion_rule: str | None = None


class ReferralTriagedV1(ReferralEvent):
    """A person decided the referral's track (it may differ from the suggestion)."""

    track: str
    suggested_track: str | None = None
    suggestion_rule: str | None = None
    lead_organisation: str | None = None
    received_at: datetime
    triaged_at: datetime
    due_at: datetime | None = None  # see-and-solve: end of that working day
    clock: str | None = None  # "see_and_solve" | "first_partner_contact" | None
    category_codes: list[str] = []


class ReferralTaskAssignedV1(ReferralEvent):
    task_id: str
    assigned_organisation: str
    due_at: datetime | None = None
    assigned_at: datetime


class ReferralTaskCompletedV1(ReferralEvent):
    task_id: str
    assigned_organisation: str
    outcome_code: str
    completed_at: datetime


class ReferralResolvedV1(ReferralEvent):
    """Work finished with a structured outcome (resolved, signposted, referred_on, ...)."""

    track: str | None = None
    outcome_code: str
    received_at: datetime
    triaged_at: datetime | None = None
    resolved_at: datetime
    within_due: bool | None = None  # for see-and-solve: done by the end of the working day
    category_codes: list[str] = []


class ReferralClosedV1(ReferralEvent):
    closed_at: datetime


class ReferralReopenedV1(ReferralEvent):
    reopened_at: datetime


class ReferralOverdueV1(ReferralEvent):
    """A referral's clock passed its due time (emitted once per clock)."""

    clock: str  # "see_and_solve" | "first_partner_contact"
    track: str | None = None
    due_at: datetime
    detected_at: datetime
    lead_organisation: str | None = None


class ReferralStateAnnouncedV1(ReferralEvent):
    """The referral's whole current state, re-announced by an operator's command.

    Consumers that derive facts from the other events replace theirs with this state: it is how
    a read model is rebuilt when the events themselves are gone (outbox retention passed, the
    broker lost them, a consumer's database was restored from an old backup). Announced after
    everything the referral emitted before, on the same key, so later events apply on top.
    """

    status: str
    channel: str
    category_codes: list[str] = []
    received_at: datetime
    track: str | None = None
    triaged_at: datetime | None = None
    resolved_at: datetime | None = None
    within_due: bool | None = None
    overdue_at: datetime | None = None  # when the service found its clock overdue, if it did
    announced_at: datetime


class ReferralSharedV1(ReferralEvent):
    """The referral was shared with another organisation (a disclosure, on a lawful basis)."""

    shared_organisation: str
    lawful_basis: str
    shared_at: datetime


class ReferralShareRevokedV1(ReferralEvent):
    """A share ended: the organisation no longer sees the referral through it."""

    revoked_organisation: str
    revoked_at: datetime


class ReferralTaskOverdueV1(ReferralEvent):
    """A partner task passed its due time unfinished (emitted once per task)."""

    task_id: str
    assigned_organisation: str
    due_at: datetime
    detected_at: datetime
