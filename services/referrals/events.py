"""Outgoing events of the referrals service: ids, codes, locality and times, never free text."""

from datetime import datetime

from services.referrals.domain import as_utc
from services.referrals.models import PartnerTask, Referral, ReferralShare
from shared.contracts import referrals as contract
from shared.events import EventEnvelope, new_event


def _event(referral: Referral, event_type: str, payload: contract.ReferralEvent) -> EventEnvelope:
    return new_event(contract.SOURCE, event_type, referral.id, payload)


def _common(referral: Referral, organisation: str) -> dict:
    return {
        "referral_id": referral.id,
        "reference": referral.reference,
        "locality_code": referral.locality_code,
        "organisation": organisation,
    }


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def referral_received(referral: Referral) -> EventEnvelope:
    payload = contract.ReferralReceivedV1(
        **_common(referral, referral.created_by_organisation),
        channel=referral.channel,
        category_codes=list(referral.category_codes),
        risk_flags=list(referral.risk_flags or []),
        received_at=as_utc(referral.received_at),
        repeat_of=list(referral.repeat_of or []),
        suggested_track=referral.suggested_track,
        suggestion_rule=referral.suggestion_rule,
    )
    return _event(referral, contract.REFERRAL_RECEIVED_V1, payload)


def referral_triaged(referral: Referral, organisation: str) -> EventEnvelope:
    assert referral.track is not None and referral.triaged_at is not None
    payload = contract.ReferralTriagedV1(
        **_common(referral, organisation),
        track=referral.track,
        suggested_track=referral.suggested_track,
        suggestion_rule=referral.suggestion_rule,
        lead_organisation=referral.lead_organisation,
        received_at=as_utc(referral.received_at),
        triaged_at=as_utc(referral.triaged_at),
        due_at=_maybe_utc(referral.due_at),
        clock=referral.clock,
        category_codes=list(referral.category_codes),
    )
    return _event(referral, contract.REFERRAL_TRIAGED_V1, payload)


def task_assigned(referral: Referral, task: PartnerTask, organisation: str) -> EventEnvelope:
    payload = contract.ReferralTaskAssignedV1(
        **_common(referral, organisation),
        task_id=task.id,
        assigned_organisation=task.organisation,
        due_at=_maybe_utc(task.due_at),
        assigned_at=as_utc(task.assigned_at),
    )
    return _event(referral, contract.REFERRAL_TASK_ASSIGNED_V1, payload)


def task_completed(referral: Referral, task: PartnerTask, organisation: str) -> EventEnvelope:
    assert task.outcome_code is not None and task.completed_at is not None
    payload = contract.ReferralTaskCompletedV1(
        **_common(referral, organisation),
        task_id=task.id,
        assigned_organisation=task.organisation,
        outcome_code=task.outcome_code,
        completed_at=as_utc(task.completed_at),
    )
    return _event(referral, contract.REFERRAL_TASK_COMPLETED_V1, payload)


def referral_resolved(
    referral: Referral, organisation: str, within_due: bool | None
) -> EventEnvelope:
    assert referral.outcome_code is not None and referral.resolved_at is not None
    payload = contract.ReferralResolvedV1(
        **_common(referral, organisation),
        track=referral.track,
        outcome_code=referral.outcome_code,
        received_at=as_utc(referral.received_at),
        triaged_at=_maybe_utc(referral.triaged_at),
        resolved_at=as_utc(referral.resolved_at),
        within_due=within_due,
        category_codes=list(referral.category_codes),
    )
    return _event(referral, contract.REFERRAL_RESOLVED_V1, payload)


def referral_closed(referral: Referral, organisation: str) -> EventEnvelope:
    assert referral.closed_at is not None
    payload = contract.ReferralClosedV1(
        **_common(referral, organisation), closed_at=as_utc(referral.closed_at)
    )
    return _event(referral, contract.REFERRAL_CLOSED_V1, payload)


def referral_reopened(referral: Referral, organisation: str, at: datetime) -> EventEnvelope:
    payload = contract.ReferralReopenedV1(**_common(referral, organisation), reopened_at=at)
    return _event(referral, contract.REFERRAL_REOPENED_V1, payload)


def referral_overdue(referral: Referral, detected_at: datetime) -> EventEnvelope:
    assert referral.clock is not None and referral.due_at is not None
    # The service noticed, not a caller: the organisation coordinating the referral is named.
    organisation = referral.coordinating_organisation or referral.created_by_organisation
    payload = contract.ReferralOverdueV1(
        **_common(referral, organisation),
        clock=referral.clock,
        track=referral.track,
        due_at=as_utc(referral.due_at),
        detected_at=detected_at,
        lead_organisation=referral.lead_organisation,
    )
    return _event(referral, contract.REFERRAL_OVERDUE_V1, payload)


def referral_state_announced(
    referral: Referral, within_due: bool | None, announced_at: datetime
) -> EventEnvelope:
    payload = contract.ReferralStateAnnouncedV1(
        **_common(referral, referral.coordinating_organisation or referral.created_by_organisation),
        status=referral.status,
        channel=referral.channel,
        category_codes=list(referral.category_codes),
        received_at=as_utc(referral.received_at),
        track=referral.track,
        triaged_at=_maybe_utc(referral.triaged_at),
        resolved_at=_maybe_utc(referral.resolved_at),
        within_due=within_due,
        overdue_at=_maybe_utc(referral.overdue_notified_at),
        announced_at=as_utc(announced_at),
    )
    return _event(referral, contract.REFERRAL_STATE_ANNOUNCED_V1, payload)


def referral_shared(referral: Referral, share: ReferralShare, organisation: str) -> EventEnvelope:
    payload = contract.ReferralSharedV1(
        **_common(referral, organisation),
        shared_organisation=share.organisation,
        lawful_basis=share.lawful_basis,
        shared_at=as_utc(share.shared_at),
    )
    return _event(referral, contract.REFERRAL_SHARED_V1, payload)


def share_revoked(
    referral: Referral, revoked_organisation: str, organisation: str, at: datetime
) -> EventEnvelope:
    payload = contract.ReferralShareRevokedV1(
        **_common(referral, organisation),
        revoked_organisation=revoked_organisation,
        revoked_at=as_utc(at),
    )
    return _event(referral, contract.REFERRAL_SHARE_REVOKED_V1, payload)


def task_overdue(referral: Referral, task: PartnerTask, detected_at: datetime) -> EventEnvelope:
    assert task.due_at is not None
    # The service noticed, not a caller: the organisation coordinating the referral is named.
    organisation = referral.coordinating_organisation or referral.created_by_organisation
    payload = contract.ReferralTaskOverdueV1(
        **_common(referral, organisation),
        task_id=task.id,
        assigned_organisation=task.organisation,
        due_at=as_utc(task.due_at),
        detected_at=detected_at,
    )
    return _event(referral, contract.REFERRAL_TASK_OVERDUE_V1, payload)
