"""Queries of the action plan facts: plans of localities, their status, last review, targets,
each as the system knew it at an as-at time (None: now)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.models import PlanFact, PlanReviewFact, PlanStatusFact, Target


async def get_plan(session: AsyncSession, plan_id: str) -> PlanFact | None:
    return await session.get(PlanFact, plan_id)


async def get_review(session: AsyncSession, review_id: str) -> PlanReviewFact | None:
    return await session.get(PlanReviewFact, review_id)


async def get_status(
    session: AsyncSession, plan_id: str, changed_at: datetime
) -> PlanStatusFact | None:
    return await session.get(PlanStatusFact, (plan_id, changed_at))


async def plans_of_localities(
    session: AsyncSession, locality_codes: Sequence[str], as_of: datetime | None
) -> Sequence[PlanFact]:
    """The localities' plans created by `as_of`, oldest first."""
    query = select(PlanFact).where(PlanFact.locality_code.in_(locality_codes))
    if as_of is not None:
        query = query.where(PlanFact.created_at <= as_of)
    order = (PlanFact.locality_code, PlanFact.created_at, PlanFact.plan_id)
    return (await session.scalars(query.order_by(*order))).all()


async def statuses_at(
    session: AsyncSession, plan_ids: Sequence[str], as_of: datetime | None
) -> dict[str, str]:
    """Each plan's status at `as_of`: the last change on or before it."""
    query = select(PlanStatusFact).where(PlanStatusFact.plan_id.in_(plan_ids))
    if as_of is not None:
        query = query.where(PlanStatusFact.changed_at <= as_of)
    statuses: dict[str, str] = {}
    for row in await session.scalars(query.order_by(PlanStatusFact.changed_at)):
        statuses[row.plan_id] = row.status  # later rows win
    return statuses


async def last_reviews(
    session: AsyncSession, plan_ids: Sequence[str], as_of: datetime | None
) -> dict[str, PlanReviewFact]:
    """Each plan's latest review held and announced by `as_of`."""
    query = select(PlanReviewFact).where(PlanReviewFact.plan_id.in_(plan_ids))
    if as_of is not None:
        query = query.where(
            PlanReviewFact.held_on <= as_of.date(), PlanReviewFact.recorded_at <= as_of
        )
    order = (PlanReviewFact.held_on, PlanReviewFact.recorded_at, PlanReviewFact.review_id)
    reviews: dict[str, PlanReviewFact] = {}
    for row in await session.scalars(query.order_by(*order)):
        reviews[row.plan_id] = row  # later rows win
    return reviews


async def targets_of_plans(
    session: AsyncSession, plan_ids: Sequence[str], as_of: datetime | None
) -> list[Target]:
    """The plans' targets set by `as_of`, the latest version of each, in the order first set."""
    query = select(Target).where(Target.plan_id.in_(plan_ids))
    if as_of is not None:
        query = query.where(Target.set_at <= as_of)
    latest: dict[str, Target] = {}
    for row in await session.scalars(query.order_by(Target.set_at, Target.version)):
        latest[row.target_id] = row  # later versions win
    return list(latest.values())
