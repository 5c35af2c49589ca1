"""Handlers of the events the metrics service consumes: referral, plan and action facts, targets.

Facts are keyed by referral and action ids and every handler sets fields rather than adding
to counts, so a redelivered event (which the inbox already skips) could change nothing anyway.
"""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.models import (
    ActionFact,
    PlanFact,
    PlanReviewFact,
    PlanStatusFact,
    ReferralFact,
    ReferralFactCategory,
    Target,
)
from services.metrics.repository import facts
from services.metrics.repository import plans as plan_facts
from services.metrics.service.analysis import announce_derived_changes, announce_status_changes
from services.metrics.service.consumed_batch import current_batch
from shared.clock import system_clock
from shared.consumer import EventHandler
from shared.contracts import actionplans as plans
from shared.contracts import referrals
from shared.events import EventEnvelope

TRIAGE_INDICATORS = ("see_and_solve_share", "multi_agency_share")
RESOLUTION_INDICATORS = ("see_and_solve_within_day", "median_days_to_resolution")


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _existing_referral_fact(session: AsyncSession, referral_id: str) -> ReferralFact | None:
    batch = current_batch(session)
    if batch is not None:  # prefetched with the batch's other facts
        return batch.referral_facts.get(referral_id)
    return await facts.get_referral_fact(session, referral_id)


async def _referral_fact(
    session: AsyncSession, payload: referrals.ReferralEvent, received_at: datetime | None
) -> ReferralFact:
    """The referral's fact, created on first sight whatever event arrives first."""
    fact = await _existing_referral_fact(session, payload.referral_id)
    if fact is None:
        fact = ReferralFact(
            referral_id=payload.referral_id,
            locality_code=payload.locality_code,
            channel="unknown",
            received_at=utc(received_at or system_clock()),
        )
        session.add(fact)
        if (batch := current_batch(session)) is not None:
            batch.referral_facts[payload.referral_id] = fact
    return fact


async def _set_categories(session: AsyncSession, referral_id: str, codes: list[str]) -> None:
    """The referral's category rows become exactly `codes`; unchanged rows are left alone."""
    batch = current_batch(session)
    if batch is not None:  # prefetched with the batch's facts
        existing = batch.referral_categories.setdefault(referral_id, {})
    else:
        existing = (await facts.referral_categories_by_id(session, [referral_id]))[referral_id]
    wanted = list(dict.fromkeys(codes))
    for code in [c for c in existing if c not in wanted]:
        await session.delete(existing.pop(code))
    for code in wanted:
        if code not in existing:
            existing[code] = ReferralFactCategory(referral_id=referral_id, category_code=code)
            session.add(existing[code])


async def _derived_changed(
    session: AsyncSession, locality_code: str, indicator_codes: tuple[str, ...]
) -> None:
    """Re-check the derived indicators someone watches in the locality, after this event.

    Within a batch the watched pairs were read once; a watched one is still re-checked after
    each event, so every status an event-by-event reader would see is announced.
    """
    batch = current_batch(session)
    if batch is None:
        await announce_derived_changes(session, locality_code, indicator_codes)
        return
    watched = {(code, locality_code) for code in indicator_codes} & batch.watched
    if watched:
        await session.flush()  # the aggregates must see the fact the handler just changed
        await announce_status_changes(session, watched)


async def on_referral_received(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = referrals.ReferralReceivedV1.model_validate(envelope.data)
    fact = await _referral_fact(session, payload, payload.received_at)
    fact.channel, fact.received_at = payload.channel, utc(payload.received_at)
    fact.locality_code = payload.locality_code
    await _set_categories(session, payload.referral_id, payload.category_codes)
    await _derived_changed(session, payload.locality_code, ("referrals_received",))


async def on_referral_triaged(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = referrals.ReferralTriagedV1.model_validate(envelope.data)
    fact = await _referral_fact(session, payload, payload.received_at)
    fact.track, fact.triaged_at = payload.track, utc(payload.triaged_at)
    await _derived_changed(session, payload.locality_code, TRIAGE_INDICATORS)


async def on_referral_resolved(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = referrals.ReferralResolvedV1.model_validate(envelope.data)
    fact = await _referral_fact(session, payload, payload.received_at)
    resolved_at, received_at = utc(payload.resolved_at), utc(payload.received_at)
    fact.resolved_at = resolved_at
    fact.resolution_days = max((resolved_at - received_at).total_seconds(), 0) / 86400
    fact.within_due = payload.within_due
    if payload.track:
        fact.track = payload.track
    await _derived_changed(session, payload.locality_code, RESOLUTION_INDICATORS)


async def on_referral_reopened(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = referrals.ReferralReopenedV1.model_validate(envelope.data)
    fact = await _existing_referral_fact(session, payload.referral_id)
    if fact is not None:  # no longer resolved: it counts again when it is resolved again
        fact.resolved_at, fact.resolution_days, fact.within_due = None, None, None
        await _derived_changed(session, fact.locality_code, RESOLUTION_INDICATORS)


async def on_referral_overdue(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = referrals.ReferralOverdueV1.model_validate(envelope.data)
    fact = await _referral_fact(session, payload, None)
    if fact.overdue_at is None:  # a referral is overdue once, whichever clock passes first
        fact.overdue_at = utc(payload.detected_at)
    await _derived_changed(session, payload.locality_code, ("overdue_referrals",))


ALL_REFERRAL_INDICATORS = (
    "referrals_received",
    *TRIAGE_INDICATORS,
    *RESOLUTION_INDICATORS,
    "overdue_referrals",
)


async def on_referral_state_announced(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Replace the referral's fact with the state its owner announced (a rebuild)."""
    payload = referrals.ReferralStateAnnouncedV1.model_validate(envelope.data)
    fact = await _referral_fact(session, payload, payload.received_at)
    received_at = utc(payload.received_at)
    fact.channel, fact.received_at, fact.track = payload.channel, received_at, payload.track
    fact.triaged_at = utc(payload.triaged_at) if payload.triaged_at else None
    if payload.resolved_at is None:
        fact.resolved_at, fact.resolution_days, fact.within_due = None, None, None
    else:
        fact.resolved_at = utc(payload.resolved_at)
        fact.resolution_days = max((fact.resolved_at - received_at).total_seconds(), 0) / 86400
        fact.within_due = payload.within_due
    fact.overdue_at = utc(payload.overdue_at) if payload.overdue_at else None
    await _set_categories(session, payload.referral_id, payload.category_codes)
    await _derived_changed(session, payload.locality_code, ALL_REFERRAL_INDICATORS)


async def _action_fact(
    session: AsyncSession, payload: plans.ActionEvent, status: str, at: datetime
) -> ActionFact:
    batch = current_batch(session)
    if batch is not None:  # prefetched with the batch's other facts
        fact = batch.action_facts.get(payload.action_id)
    else:
        fact = await facts.get_action_fact(session, payload.action_id)
    if fact is None:
        fact = ActionFact(
            action_id=payload.action_id,
            plan_id=payload.plan_id,
            locality_code=payload.locality_code,
            status=status,
            status_changed_at=utc(at),
        )
        session.add(fact)
        if batch is not None:
            batch.action_facts[payload.action_id] = fact
    return fact


async def on_action_created(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = plans.ActionCreatedV1.model_validate(envelope.data)
    fact = await _action_fact(session, payload, payload.status, payload.created_at)
    fact.due_date = payload.due_date if fact.due_date is None else fact.due_date


async def on_action_status_changed(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = plans.ActionStatusChangedV1.model_validate(envelope.data)
    fact = await _action_fact(session, payload, payload.status, payload.changed_at)
    if utc(payload.changed_at) >= utc(fact.status_changed_at):  # ignore a late, older change
        fact.status, fact.status_changed_at = payload.status, utc(payload.changed_at)
        fact.due_date = payload.due_date or fact.due_date


async def on_action_overdue(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = plans.ActionOverdueV1.model_validate(envelope.data)
    fact = await _action_fact(session, payload, "overdue", payload.detected_at)
    fact.due_date = payload.due_date
    if fact.overdue_at is None:
        fact.overdue_at = utc(payload.detected_at)
    await _derived_changed(session, payload.locality_code, ("overdue_actions",))


async def _plan_status(session: AsyncSession, plan_id: str, at: datetime, status: str) -> None:
    """The plan's status from `at` on (its history, for reports as at a past date)."""
    at = utc(at)
    row = await plan_facts.get_status(session, plan_id, at)
    if row is None:
        session.add(PlanStatusFact(plan_id=plan_id, changed_at=at, status=status))
    else:
        row.status = status
    await session.flush()  # a later event of the batch finds it (no autoflush)


async def on_plan_created(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the plan's locality, lead and objectives (codes; its title stays in actionplans)."""
    payload = plans.PlanCreatedV1.model_validate(envelope.data)
    plan = await plan_facts.get_plan(session, payload.plan_id)
    if plan is None:
        plan = PlanFact(plan_id=payload.plan_id)
        session.add(plan)
    plan.locality_code, plan.lead_organisation = payload.locality_code, payload.lead_organisation
    plan.objective_codes, plan.created_at = list(payload.objective_codes), utc(payload.created_at)
    await _plan_status(session, payload.plan_id, payload.created_at, payload.status)


async def on_plan_status_changed(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = plans.PlanStatusChangedV1.model_validate(envelope.data)
    await _plan_status(session, payload.plan_id, payload.changed_at, payload.status)


async def on_plan_reviewed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the review with each target's RAG as the meeting froze it."""
    payload = plans.PlanReviewedV1.model_validate(envelope.data)
    review = await plan_facts.get_review(session, payload.review_id)
    if review is None:
        review = PlanReviewFact(review_id=payload.review_id)
        session.add(review)
    review.plan_id, review.held_on = payload.plan_id, payload.reviewed_on
    review.recorded_at = utc(envelope.time)
    review.targets = [t.model_dump(mode="json") for t in payload.targets]
    await session.flush()


def keep_target(target: Target, payload: plans.TargetSetV1) -> None:
    """Copy a target version into the local read model, trajectory included (shared RAG rule)."""
    target.version, target.plan_id = payload.version, payload.plan_id
    target.indicator_code, target.area_code = payload.indicator_code, payload.area_code
    target.baseline_value, target.baseline_period = payload.baseline_value, payload.baseline_period
    target.baseline_on = payload.baseline_on
    target.target_value, target.target_date = payload.target_value, payload.target_date
    target.amber_tolerance, target.set_at = payload.amber_tolerance, utc(payload.set_at)


async def on_target_set(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep every version of each target, then re-check RAG for its indicator and area."""
    payload = plans.TargetSetV1.model_validate(envelope.data)
    if await repository.get_target(session, payload.target_id, payload.version) is not None:
        return  # a redelivery: versions are never rewritten
    target = Target(target_id=payload.target_id)
    keep_target(target, payload)
    session.add(target)
    if (batch := current_batch(session)) is not None:  # its pair is watched from now on
        batch.watched.add((payload.indicator_code, payload.area_code))
    await session.flush()
    await announce_status_changes(session, [(payload.indicator_code, payload.area_code)])


HANDLERS: dict[str, EventHandler] = {
    referrals.REFERRAL_RECEIVED_V1: on_referral_received,
    referrals.REFERRAL_TRIAGED_V1: on_referral_triaged,
    referrals.REFERRAL_RESOLVED_V1: on_referral_resolved,
    referrals.REFERRAL_REOPENED_V1: on_referral_reopened,
    referrals.REFERRAL_OVERDUE_V1: on_referral_overdue,
    referrals.REFERRAL_STATE_ANNOUNCED_V1: on_referral_state_announced,
    plans.PLAN_CREATED_V1: on_plan_created,
    plans.PLAN_STATUS_CHANGED_V1: on_plan_status_changed,
    plans.PLAN_REVIEWED_V1: on_plan_reviewed,
    plans.ACTION_CREATED_V1: on_action_created,
    plans.ACTION_STATUS_CHANGED_V1: on_action_status_changed,
    plans.ACTION_OVERDUE_V1: on_action_overdue,
    plans.TARGET_SET_V1: on_target_set,
}
