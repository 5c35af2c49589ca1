"""Every query of the actionplans service."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Text, and_, case, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain
from services.actionplans.domain import OPEN_ACTION_STATUSES
from services.actionplans.domain.as_at import PLAN_ROW_CHANGES
from services.actionplans.models import (
    Action,
    ActionNote,
    Indicator,
    LatestObservation,
    Plan,
    PlanHistory,
    Review,
    Target,
    TargetVersion,
)

OPEN_STATUSES = sorted(OPEN_ACTION_STATUSES)


def add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)


def _after(model: Any, cursor: tuple[datetime, str] | None) -> Any:
    """Keyset condition: rows created after the cursor's (created_at, id)."""
    if cursor is None:
        return True
    created_at, item_id = cursor
    return or_(
        model.created_at > created_at, and_(model.created_at == created_at, model.id > item_id)
    )


async def _page(session: AsyncSession, statement: Select[Any], model: Any, limit: int) -> list[Any]:
    """Up to limit + 1 rows in creation order (the extra one says whether a next page exists)."""
    rows = await session.scalars(statement.order_by(model.created_at, model.id).limit(limit + 1))
    return list(rows)


# Plans ------------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, plan_id: str) -> Plan | None:
    return await session.get(Plan, plan_id)


async def list_plans(
    session: AsyncSession,
    where: domain.PlanFilter,
    cursor: tuple[datetime, str] | None,
    limit: int,
    created_by: datetime | None = None,
) -> list[Plan]:
    statement = select(Plan).where(_after(Plan, cursor))
    if created_by is not None:
        statement = statement.where(Plan.created_at <= created_by)
    if where.locality_code:
        statement = statement.where(Plan.locality_code == where.locality_code)
    if where.status:
        statement = statement.where(Plan.status == where.status)
    if where.lead_organisation:
        statement = statement.where(Plan.lead_organisation == where.lead_organisation)
    if where.objective_code:
        # JSON containment differs per engine; a quoted-code match on the JSON text works on both.
        code = where.objective_code.replace('"', "")
        statement = statement.where(
            cast(Plan.objective_codes, Text).contains(f'"{code}"', autoescape=True)
        )
    return await _page(session, statement, Plan, limit)


async def list_history(
    session: AsyncSession, plan_id: str, after_seq: int | None, limit: int
) -> list[PlanHistory]:
    statement = select(PlanHistory).where(PlanHistory.plan_id == plan_id)
    if after_seq is not None:
        statement = statement.where(PlanHistory.seq > after_seq)
    rows = await session.scalars(statement.order_by(PlanHistory.seq).limit(limit + 1))
    return list(rows)


async def histories(session: AsyncSession, plan_ids: Sequence[str]) -> dict[str, list[PlanHistory]]:
    """Every history row of each plan that changed the plan itself, oldest first, by plan id."""
    found: dict[str, list[PlanHistory]] = {plan_id: [] for plan_id in plan_ids}
    if not plan_ids:
        return found
    rows = await session.scalars(
        select(PlanHistory)
        .where(
            PlanHistory.plan_id.in_(plan_ids),
            PlanHistory.change.in_(["plan.created", *sorted(PLAN_ROW_CHANGES)]),
        )
        .order_by(PlanHistory.seq)
    )
    for row in rows:
        found[row.plan_id].append(row)
    return found


# Targets ----------------------------------------------------------------------------------


async def get_target(session: AsyncSession, plan_id: str, target_id: str) -> Target | None:
    target = await session.get(Target, target_id)
    return target if target is not None and target.plan_id == plan_id else None


async def list_targets(
    session: AsyncSession,
    plan_id: str,
    cursor: tuple[datetime, str] | None,
    limit: int,
    created_by: datetime | None = None,
) -> list[Target]:
    statement = select(Target).where(Target.plan_id == plan_id, _after(Target, cursor))
    if created_by is not None:
        statement = statement.where(Target.created_at <= created_by)
    return await _page(session, statement, Target, limit)


async def all_targets_of_plan(session: AsyncSession, plan_id: str) -> list[Target]:
    rows = await session.scalars(
        select(Target).where(Target.plan_id == plan_id).order_by(Target.created_at, Target.id)
    )
    return list(rows)


async def get_target_version(
    session: AsyncSession, target_id: str, version: int
) -> TargetVersion | None:
    return await session.get(TargetVersion, (target_id, version))


async def current_versions(
    session: AsyncSession, targets: Sequence[Target]
) -> dict[str, TargetVersion]:
    """The current version of each target, by target id, in one query."""
    if not targets:
        return {}
    keys = [(t.id, t.current_version) for t in targets]
    rows = await session.scalars(
        select(TargetVersion).where(
            or_(*(and_(TargetVersion.target_id == i, TargetVersion.version == v) for i, v in keys))
        )
    )
    return {row.target_id: row for row in rows}


async def versions_of(
    session: AsyncSession, targets: Sequence[Target]
) -> dict[str, list[TargetVersion]]:
    """Every version of each target, by target id, in one query."""
    found: dict[str, list[TargetVersion]] = {t.id: [] for t in targets}
    if not targets:
        return found
    rows = await session.scalars(
        select(TargetVersion).where(TargetVersion.target_id.in_(list(found)))
    )
    for row in rows:
        found[row.target_id].append(row)
    return found


async def list_target_versions(session: AsyncSession, target_id: str) -> list[TargetVersion]:
    rows = await session.scalars(
        select(TargetVersion)
        .where(TargetVersion.target_id == target_id)
        .order_by(TargetVersion.version)
    )
    return list(rows)


async def targets_measured_by(
    session: AsyncSession, indicator_code: str, area_code: str | None = None
) -> list[Target]:
    """Targets on an indicator (for one area, or every area), oldest first."""
    statement = select(Target).where(Target.indicator_code == indicator_code)
    if area_code is not None:
        statement = statement.where(Target.area_code == area_code)
    rows = await session.scalars(statement.order_by(Target.created_at, Target.id))
    return list(rows)


# What this service knows of the metrics service's indicators --------------------------------


async def get_indicator(session: AsyncSession, code: str) -> Indicator | None:
    return await session.get(Indicator, code)


async def indicator_units(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """The unit of each indicator seen so far, by code."""
    if not codes:
        return {}
    rows = await session.execute(
        select(Indicator.code, Indicator.unit).where(Indicator.code.in_(set(codes)))
    )
    return {code: unit for code, unit in rows}


async def get_latest_observation(
    session: AsyncSession, indicator_code: str, area_code: str
) -> LatestObservation | None:
    return await session.get(LatestObservation, (indicator_code, area_code))


# Actions ----------------------------------------------------------------------------------


async def get_action(session: AsyncSession, plan_id: str, action_id: str) -> Action | None:
    action = await session.get(Action, action_id)
    return action if action is not None and action.plan_id == plan_id else None


@dataclass(frozen=True, slots=True)
class ActionFilter:
    status: str | None = None
    owner_organisation: str | None = None
    overdue_on: date | None = None  # only actions overdue on this day


async def list_actions(
    session: AsyncSession,
    plan_id: str,
    where: ActionFilter,
    cursor: tuple[datetime, str] | None,
    limit: int,
) -> list[Action]:
    statement = select(Action).where(Action.plan_id == plan_id, _after(Action, cursor))
    if where.status:
        statement = statement.where(Action.status == where.status)
    if where.owner_organisation:
        statement = statement.where(Action.owner_organisation == where.owner_organisation)
    if where.overdue_on:
        statement = statement.where(
            Action.status.in_(OPEN_STATUSES), Action.due_on < where.overdue_on
        )
    return await _page(session, statement, Action, limit)


async def notes_of(session: AsyncSession, action_id: str) -> list[ActionNote]:
    rows = await session.scalars(
        select(ActionNote).where(ActionNote.action_id == action_id).order_by(ActionNote.seq)
    )
    return list(rows)


async def actions_due_for_overdue_notice(
    session: AsyncSession, today: date, limit: int
) -> list[Action]:
    """Open actions past their due date whose overdue event has not been emitted yet."""
    rows = await session.scalars(
        select(Action)
        .where(
            Action.overdue_notified_at.is_(None),
            Action.due_on < today,
            Action.status.in_(OPEN_STATUSES),
        )
        .order_by(Action.due_on, Action.id)
        .limit(limit)
    )
    return list(rows)


async def claim_overdue_notice(session: AsyncSession, action_id: str, at: datetime) -> bool:
    """Set the overdue flag unless another checker already did; True if this one did."""
    result = await session.execute(
        update(Action)
        .where(Action.id == action_id, Action.overdue_notified_at.is_(None))
        .values(overdue_notified_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# Reviews ----------------------------------------------------------------------------------


async def get_review(session: AsyncSession, plan_id: str, review_id: str) -> Review | None:
    review = await session.get(Review, review_id)
    return review if review is not None and review.plan_id == plan_id else None


async def list_reviews(
    session: AsyncSession, plan_id: str, cursor: tuple[datetime, str] | None, limit: int
) -> list[Review]:
    statement = select(Review).where(Review.plan_id == plan_id, _after(Review, cursor))
    return await _page(session, statement, Review, limit)


async def latest_review_date(session: AsyncSession, plan_id: str) -> date | None:
    return await session.scalar(select(func.max(Review.held_on)).where(Review.plan_id == plan_id))


async def last_review_by(
    session: AsyncSession, plan_id: str, held_by: date, recorded_by: datetime
) -> Review | None:
    """The latest review held on or before `held_by` and recorded on or before `recorded_by`."""
    return await session.scalar(
        select(Review)
        .where(
            Review.plan_id == plan_id,
            Review.held_on <= held_by,
            Review.created_at <= recorded_by,
        )
        .order_by(Review.held_on.desc(), Review.created_at.desc(), Review.id.desc())
        .limit(1)
    )


# Summary ----------------------------------------------------------------------------------


async def rag_counts(
    session: AsyncSession, plan_ids: Sequence[str]
) -> dict[str, dict[str | None, int]]:
    """For each plan, how many of its targets are red, amber, green or without data (None)."""
    counts: dict[str, dict[str | None, int]] = {plan_id: {} for plan_id in plan_ids}
    if not plan_ids:
        return counts
    rows = await session.execute(
        select(Target.plan_id, Target.rag, func.count())
        .where(Target.plan_id.in_(plan_ids))
        .group_by(Target.plan_id, Target.rag)
    )
    for plan_id, rag, count in rows:
        counts[plan_id][rag] = count
    return counts


async def action_counts(
    session: AsyncSession, plan_ids: Sequence[str], today: date
) -> dict[str, tuple[int, int]]:
    """For each plan: (open actions, overdue actions on `today`)."""
    counts = dict.fromkeys(plan_ids, (0, 0))
    if not plan_ids:
        return counts
    overdue = func.sum(case((Action.due_on < today, 1), else_=0))
    rows = await session.execute(
        select(Action.plan_id, func.count(), overdue)
        .where(Action.plan_id.in_(plan_ids), Action.status.in_(OPEN_STATUSES))
        .group_by(Action.plan_id)
    )
    for plan_id, open_count, overdue_count in rows:
        counts[plan_id] = (open_count, int(overdue_count or 0))
    return counts
