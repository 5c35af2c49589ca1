"""Turn stored referrals into response bodies (with or without personal fields).

Used by the routes, and by intake, which keeps its first answer to a request with an
Idempotency-Key so that a retry gets it back verbatim.
"""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from services.referrals.domain import (
    Channel,
    LawfulBasis,
    OutcomeCode,
    ReferralStatus,
    Track,
    as_utc,
)
from services.referrals.domain.clocks import is_overdue
from services.referrals.domain.lifecycle import allowed_actions
from services.referrals.models import Referral
from services.referrals.schemas import (
    ClockRead,
    Place,
    ReferralRead,
    ReferralSummary,
    Referrer,
    RepeatDemand,
    Subject,
    SubjectPerson,
)
from services.referrals.service.reading import RepeatDemand as StoredRepeats

E = TypeVar("E")


def _optional(kind: Callable[[str], E], value: str | None) -> E | None:
    return None if value is None else kind(value)


def _clock(referral: Referral, now: datetime) -> ClockRead | None:
    if referral.clock is None or referral.due_at is None:
        return None
    due_at = as_utc(referral.due_at)
    stopped_at = as_utc(referral.clock_stopped_at) if referral.clock_stopped_at else None
    return ClockRead(
        name=referral.clock,
        due_at=due_at,
        stopped_at=stopped_at,
        overdue=is_overdue(due_at, stopped_at, now),
    )


def summary(referral: Referral, now: datetime) -> ReferralSummary:
    return ReferralSummary(
        id=referral.id,
        reference=referral.reference,
        locality_code=referral.locality_code,
        channel=Channel(referral.channel),
        category_codes=list(referral.category_codes),
        risk_flags=list(referral.risk_flags or []),
        status=ReferralStatus(referral.status),
        suggested_track=_optional(Track, referral.suggested_track),
        suggestion_rule=referral.suggestion_rule,
        track=_optional(Track, referral.track),
        lead_organisation=referral.lead_organisation,
        received_at=referral.received_at,
        triaged_at=referral.triaged_at,
        clock=_clock(referral, now),
        outcome_code=_optional(OutcomeCode, referral.outcome_code),
        resolved_at=referral.resolved_at,
        closed_at=referral.closed_at,
        external_ref=referral.external_ref,
        version=referral.version,
    )


def _subject(referral: Referral) -> Subject | None:
    person = SubjectPerson(**referral.subject_person) if referral.subject_person else None
    place = None
    if referral.place_address:
        place = Place(
            address=referral.place_address,
            postcode=referral.place_postcode,
            uprn=referral.uprn,
            latitude=referral.latitude,
            longitude=referral.longitude,
        )
    return Subject(person=person, place=place) if person or place else None


def full(referral: Referral, repeats: StoredRepeats, now: datetime) -> ReferralRead:
    return ReferralRead(
        **summary(referral, now).model_dump(),
        summary=referral.summary,
        description=referral.description,
        referrer=Referrer(**referral.referrer) if referral.referrer else None,
        subject=_subject(referral),
        lawful_basis=LawfulBasis(referral.lawful_basis),
        sharing_agreement_ref=referral.sharing_agreement_ref,
        created_by_organisation=referral.created_by_organisation,
        coordinating_organisation=referral.coordinating_organisation,
        triage_rationale=referral.triage_rationale,
        triaged_by_subject=referral.triaged_by_subject,
        triaged_by_organisation=referral.triaged_by_organisation,
        outcome_reason=referral.outcome_reason,
        repeat_demand=RepeatDemand(
            count=len(repeats.referral_ids),
            referral_ids=repeats.referral_ids,
            window_days=repeats.window_days,
        ),
        allowed_actions=allowed_actions(ReferralStatus(referral.status)),
    )
