"""Referral rules: the vocabulary of a referral and its readable reference. No I/O here.

The rules themselves live in submodules by concept: `lifecycle` (the state machine),
`clocks` (working-day arithmetic), `triage` (suggestion rules, which count repeat demand),
`taxonomy` (categories) and `sharing` (who may see a referral, and the keys that match a
person or a place across referrals).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WALK_IN = "walk_in"
    ONLINE = "online"
    SOCIAL_MEDIA = "social_media"
    COUNCILLOR = "councillor"
    PARTNER_SYSTEM = "partner_system"
    PROFESSIONAL = "professional"
    # Residents' apps (FixMyStreet and others) through the gateway's Open311 front door.
    OPEN311 = "open311"


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Track(StrEnum):
    SEE_AND_SOLVE = "see_and_solve"
    MULTI_AGENCY = "multi_agency"
    SIGNPOST = "signpost"
    NO_FURTHER_ACTION = "no_further_action"
    ESCALATE_STATUTORY = "escalate_statutory"


class RiskFlag(StrEnum):
    CHILD_SAFEGUARDING = "child_safeguarding"
    ADULT_SAFEGUARDING = "adult_safeguarding"
    DOMESTIC_ABUSE = "domestic_abuse"
    URGENT = "urgent"


class LawfulBasis(StrEnum):
    """UK GDPR Article 6 bases used in locality working, plus the Crime and Disorder Act s115."""

    CONSENT = "consent"
    PUBLIC_TASK = "public_task"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    CRIME_AND_DISORDER_ACT_S115 = "crime_and_disorder_act_s115"


class OutcomeCode(StrEnum):
    RESOLVED = "resolved"
    SIGNPOSTED = "signposted"
    REFERRED_ON = "referred_on"
    DECLINED_BY_RESIDENT = "declined_by_resident"
    UNABLE_TO_CONTACT = "unable_to_contact"
    NO_FURTHER_ACTION = "no_further_action"


SUCCESSFUL_OUTCOMES = frozenset(
    {OutcomeCode.RESOLVED, OutcomeCode.SIGNPOSTED, OutcomeCode.REFERRED_ON}
)


def outcome_needs_reason(outcome: OutcomeCode) -> bool:
    """An unsuccessful outcome must say why, so the locality can learn from it."""
    return outcome not in SUCCESSFUL_OUTCOMES


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class ClockName(StrEnum):
    SEE_AND_SOLVE = "see_and_solve"
    FIRST_PARTNER_CONTACT = "first_partner_contact"


def format_reference(locality_code: str, year: int, number: int) -> str:
    """A reference a resident can read out on the phone: `NO-2026-000123`."""
    return f"{locality_code}-{year}-{number:06d}"


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class ReferralFilters:
    """Which referrals a list asks for (all when every field is None)."""

    locality_code: str | None = None
    status: str | None = None
    track: str | None = None
    category_code: str | None = None
    overdue: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
