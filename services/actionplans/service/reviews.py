"""Review use cases: record a meeting with each target frozen as seen then; read past reviews."""

import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain, events, repository
from services.actionplans.models import OutboxEvent, Review, Target, TargetVersion
from services.actionplans.schemas import ReviewCreate, TargetSnapshot
from services.actionplans.service.guards import (
    plan_or_404,
    plan_to_change,
    record_change,
)
from services.actionplans.service.live_status import trajectory
from shared.auth import Caller
from shared.outbox import add_event
from shared.pagination import PageOf, decode_created_cursor, page_by_creation
from shared.problems import NotFound


def snapshot(target: Target, version: TargetVersion) -> TargetSnapshot:
    """The target as the meeting sees it; stored as is, never recomputed from later data."""
    expected = (
        round(trajectory(target, version).expected_on(target.current_period_end), 4)
        if target.current_period_end is not None
        else None
    )
    return TargetSnapshot(
        target_id=target.id,
        target_version=version.version,
        indicator_code=target.indicator_code,
        area_code=target.area_code,
        value=target.current_value,
        period_label=target.current_period_label,
        expected_value=expected,
        target_value=version.target_value,
        target_date=version.target_date,
        rag=domain.Rag(target.rag) if target.rag else None,
    )


async def record_review(
    session: AsyncSession, *, now: datetime, caller: Caller, plan_id: str, request: ReviewCreate
) -> Review:
    """Record a review meeting, freeze every target, schedule the next one by the cadence."""
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        targets = await repository.all_targets_of_plan(session, plan.id)
        versions = await repository.current_versions(session, targets)
        snapshots = [snapshot(t, versions[t.id]) for t in targets]
        review = Review(
            id=str(uuid.uuid4()),
            plan_id=plan.id,
            held_on=request.held_on,
            organisations_present=list(dict.fromkeys(request.organisations_present)),
            target_snapshots=[s.model_dump(mode="json") for s in snapshots],
            commentary=request.commentary,
            decisions=request.decisions,
            escalations=request.escalations,
            escalated=bool(request.escalations),
            created_at=now,
            recorded_by_subject=caller.subject,
            recorded_by_organisation=caller.organisation,
        )
        repository.add(session, review)
        previous_next_review_on = plan.next_review_on
        latest_held_on = await repository.latest_review_date(session, plan.id)
        if latest_held_on is None or request.held_on >= latest_held_on:
            # The latest meeting sets the next one; a past meeting entered late does not.
            plan.next_review_on = domain.next_review_date(request.held_on, plan.review_cadence)
        plan.updated_at = now
        record_change(
            session,
            plan,
            change="review.recorded",
            entity_id=review.id,
            caller=caller,
            at=now,
            details={
                "held_on": request.held_on.isoformat(),
                "escalations": len(request.escalations),
                "next_review_on": plan.next_review_on.isoformat() if plan.next_review_on else None,
                # What it was: lets `as_of` tell the next review date before this meeting.
                "previous_next_review_on": (
                    previous_next_review_on.isoformat() if previous_next_review_on else None
                ),
            },
        )
        rags = Counter(s.rag.value for s in snapshots if s.rag)
        add_event(
            session, OutboxEvent, events.plan_reviewed(plan, review, caller.organisation, rags)
        )
        if review.escalated:
            add_event(
                session, OutboxEvent, events.plan_escalated(plan, review, caller.organisation)
            )
    return review


async def get_review(session: AsyncSession, *, plan_id: str, review_id: str) -> Review:
    review = await repository.get_review(session, plan_id, review_id)
    if review is None:
        raise NotFound(f"No review with id '{review_id}' in plan '{plan_id}'.")
    return review


async def list_reviews(
    session: AsyncSession, *, plan_id: str, cursor: str | None, limit: int
) -> PageOf[Review]:
    await plan_or_404(session, plan_id)
    rows = await repository.list_reviews(session, plan_id, decode_created_cursor(cursor), limit)
    return page_by_creation(rows, limit)
