"""Triage and the lifecycle: start, resolve, close, reopen. One transaction each."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import events
from services.referrals.config import Settings
from services.referrals.domain import as_utc, outcome_needs_reason
from services.referrals.domain.clocks import clock_for_track, resolved_within_due
from services.referrals.domain.lifecycle import Action
from services.referrals.domain.webhooks import WebhookEventType
from services.referrals.models import OutboxEvent, Referral
from services.referrals.schemas import ReopenRequest, ResolveRequest, TriageRequest
from services.referrals.service.access import load_for_change, move, record_change
from services.referrals.service.webhook_notices import notify_partners
from shared.auth import Caller
from shared.outbox import add_event
from shared.problems import Unprocessable


async def triage_referral(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: TriageRequest,
    now: datetime,
) -> Referral:
    """Record the human decision on the track and start the track's clock."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        before, after = move(referral, Action.TRIAGE)
        policy = settings.triage_policy().for_locality(referral.locality_code)
        referral.track = request.track.value
        referral.triage_rationale = request.rationale
        referral.lead_organisation = request.lead_organisation
        referral.triaged_at = now
        referral.triaged_by_subject = caller.subject
        referral.triaged_by_organisation = caller.organisation
        clock = clock_for_track(
            settings.calendar(), request.track, now, policy.first_contact_working_days
        )
        if clock:
            referral.clock, referral.due_at = clock[0].value, clock[1]
        record_change(
            session,
            referral,
            caller,
            "triaged",
            now,
            from_status=before,
            to_status=after,
            details={
                "track": request.track.value,
                "suggested_track": referral.suggested_track,
                "followed_suggestion": request.track.value == referral.suggested_track,
                "lead_organisation": request.lead_organisation,
                "due_at": clock[1].isoformat() if clock else None,
            },
        )
        add_event(session, OutboxEvent, events.referral_triaged(referral, caller.organisation))
    return referral


async def start_work(
    session: AsyncSession, *, caller: Caller, referral_id: str, if_match: str | None, now: datetime
) -> Referral:
    """Mark a triaged referral as being worked."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        before, after = move(referral, Action.START)
        record_change(
            session, referral, caller, "started", now, from_status=before, to_status=after
        )
    return referral


async def resolve_referral(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: ResolveRequest,
    now: datetime,
) -> Referral:
    """Finish the work with a structured outcome; unsuccessful outcomes need a reason."""
    if outcome_needs_reason(request.outcome_code) and not (request.reason or "").strip():
        raise Unprocessable(
            f"Outcome '{request.outcome_code.value}' needs a reason.",
            errors=[{"field": "reason", "message": "required when the outcome is not successful"}],
        )
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        before, after = move(referral, Action.RESOLVE)
        referral.outcome_code = request.outcome_code.value
        referral.outcome_reason = request.reason
        referral.resolved_at = now
        if referral.due_at is not None and referral.clock_stopped_at is None:
            referral.clock_stopped_at = now
        record_change(
            session,
            referral,
            caller,
            "resolved",
            now,
            from_status=before,
            to_status=after,
            details={"outcome_code": request.outcome_code.value},
        )
        add_event(
            session,
            OutboxEvent,
            events.referral_resolved(referral, caller.organisation, within_due(referral)),
        )
        await notify_partners(session, referral, WebhookEventType.REFERRAL_RESOLVED, now)
    return referral


def within_due(referral: Referral) -> bool | None:
    assert referral.resolved_at is not None
    return resolved_within_due(
        referral.clock,
        as_utc(referral.due_at) if referral.due_at else None,
        as_utc(referral.resolved_at),
    )


async def close_referral(
    session: AsyncSession, *, caller: Caller, referral_id: str, if_match: str | None, now: datetime
) -> Referral:
    """Close a resolved referral."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        before, after = move(referral, Action.CLOSE)
        referral.closed_at = now
        record_change(session, referral, caller, "closed", now, from_status=before, to_status=after)
        add_event(session, OutboxEvent, events.referral_closed(referral, caller.organisation))
        await notify_partners(session, referral, WebhookEventType.REFERRAL_CLOSED, now)
    return referral


async def reopen_referral(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: ReopenRequest,
    now: datetime,
) -> Referral:
    """Take a resolved or closed referral back into work; its earlier outcome stays in history."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        previous_outcome = referral.outcome_code
        before, after = move(referral, Action.REOPEN)
        referral.outcome_code = None
        referral.outcome_reason = None
        referral.resolved_at = None
        referral.closed_at = None
        record_change(
            session,
            referral,
            caller,
            "reopened",
            now,
            from_status=before,
            to_status=after,
            details={"previous_outcome_code": previous_outcome, "reason": request.reason},
        )
        add_event(
            session, OutboxEvent, events.referral_reopened(referral, caller.organisation, now)
        )
    return referral
