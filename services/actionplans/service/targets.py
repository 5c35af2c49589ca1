"""SMART target use cases: set a target, re-baseline it (a new version), read targets."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain, events, repository
from services.actionplans.config import Settings
from services.actionplans.domain import as_at
from services.actionplans.models import OutboxEvent, Plan, Review, Target, TargetVersion
from services.actionplans.schemas import TargetCreate, TargetRebaseline
from services.actionplans.service.guards import (
    local_today,
    plan_as_of_or_404,
    plan_or_404,
    plan_to_change,
    record_change,
)
from services.actionplans.service.live_status import refresh_target
from shared.auth import Caller
from shared.etag import ensure_version
from shared.outbox import add_event
from shared.pagination import PageOf, decode_created_cursor, page_by_creation
from shared.problems import NotFound, Unprocessable


@dataclass(frozen=True)
class TargetState:
    """A target with its current version, and the unit of its indicator when known.

    Read as at a past moment (`as_of`), `version` is the one in force then and `review` the
    last review by then: its frozen snapshot gives the value and RAG the system knew.
    """

    target: Target
    version: TargetVersion
    unit: str | None
    as_of: datetime | None = None
    review: Review | None = None


async def set_target(
    session: AsyncSession, *, now: datetime, caller: Caller, plan_id: str, request: TargetCreate
) -> TargetState:
    """Add a measurable target to a plan; rated at once if the indicator already has data."""
    missing = domain.missing_target_fields(
        indicator_code=request.indicator_code,
        baseline_value=request.baseline_value,
        baseline_period=request.baseline_period,
        target_value=request.target_value,
        target_date=request.target_date,
    )
    if missing:
        raise Unprocessable(
            f"The target is not measurable: it needs {', '.join(missing)}.",
            errors=[{"field": name, "message": "required for a SMART target"} for name in missing],
        )
    assert request.indicator_code and request.target_date and request.baseline_period
    indicator_code = request.indicator_code.strip()
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        direction, source = await _direction_of(session, indicator_code, request.desired_direction)
        target = Target(
            id=str(uuid.uuid4()),
            plan_id=plan.id,
            indicator_code=indicator_code,
            area_code=request.area_code or plan.locality_code,
            description=request.description,
            desired_direction=direction,
            direction_source=source,
            current_version=1,
            created_at=now,
        )
        version = TargetVersion(
            target_id=target.id,
            version=1,
            baseline_value=request.baseline_value,
            baseline_period=request.baseline_period.strip(),
            baseline_on=request.baseline_on,
            target_value=request.target_value,
            target_date=request.target_date,
            amber_tolerance=request.amber_tolerance,
            reason=None,
            set_at=now,
            set_by_subject=caller.subject,
            set_by_organisation=caller.organisation,
        )
        _check_dates(version)
        repository.add(session, target)
        await session.flush()
        repository.add(session, version)
        await _rate_and_announce(session, plan, target, version, caller, "target.set", now)
        units = await repository.indicator_units(session, [target.indicator_code])
    return TargetState(target, version, units.get(target.indicator_code))


async def _direction_of(
    session: AsyncSession, indicator_code: str, given: domain.Direction | None
) -> tuple[str, str]:
    """The indicator's direction when the metrics service has published it, else the caller's."""
    indicator = await repository.get_indicator(session, indicator_code)
    if indicator is not None:
        if given is not None and given.value != indicator.desired_direction:
            raise Unprocessable(
                f"Indicator '{indicator_code}' is better going {indicator.desired_direction}; "
                "omit desired_direction, the indicator decides it.",
                errors=[{"field": "desired_direction", "message": "contradicts the indicator"}],
            )
        return indicator.desired_direction, domain.DirectionSource.INDICATOR.value
    if given is None:
        raise Unprocessable(
            f"Indicator '{indicator_code}' has no data yet, so its desired direction is "
            "unknown; give desired_direction ('up' or 'down') until it does.",
            errors=[{"field": "desired_direction", "message": "required for an unseen indicator"}],
        )
    return given.value, domain.DirectionSource.CALLER.value


def _check_dates(version: TargetVersion) -> None:
    if version.baseline_on is not None and version.baseline_on >= version.target_date:
        raise Unprocessable(
            "The target date must come after the end of the baseline period.",
            errors=[{"field": "target_date", "message": "not after baseline_on"}],
        )


async def _rate_and_announce(
    session: AsyncSession,
    plan: Plan,
    target: Target,
    version: TargetVersion,
    caller: Caller,
    change: str,
    at: datetime,
) -> None:
    """History, the target.set event (metrics rates against it) and the RAG from current data."""
    record_change(
        session,
        plan,
        change=change,
        entity_id=target.id,
        caller=caller,
        at=at,
        details={
            "indicator_code": target.indicator_code,
            "area_code": target.area_code,
            "version": version.version,
            "baseline_value": version.baseline_value,
            "baseline_period": version.baseline_period,
            "target_value": version.target_value,
            "target_date": version.target_date.isoformat(),
            "amber_tolerance": version.amber_tolerance,
            "reason": version.reason,
        },
    )
    add_event(session, OutboxEvent, events.target_set(plan, target, version, caller.organisation))
    observation = await repository.get_latest_observation(
        session, target.indicator_code, target.area_code
    )
    refresh_target(session, plan, target, version, observation, at=at)
    await session.flush()


async def rebaseline_target(
    session: AsyncSession,
    *,
    now: datetime,
    caller: Caller,
    plan_id: str,
    target_id: str,
    expected_version: int | None,
    request: TargetRebaseline,
) -> TargetState:
    """Write a new version of the target's numbers; earlier versions stay as they were."""
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        target = await _target_or_404(session, plan_id, target_id)
        ensure_version(target.version, expected_version)
        current = await repository.get_target_version(session, target.id, target.current_version)
        assert current is not None
        version = TargetVersion(
            target_id=target.id,
            version=current.version + 1,
            baseline_value=request.baseline_value,
            baseline_period=request.baseline_period,
            baseline_on=request.baseline_on,
            target_value=_given_or(request.target_value, current.target_value),
            target_date=request.target_date or current.target_date,
            amber_tolerance=_given_or(request.amber_tolerance, current.amber_tolerance),
            reason=request.reason,
            set_at=now,
            set_by_subject=caller.subject,
            set_by_organisation=caller.organisation,
        )
        _check_dates(version)
        repository.add(session, version)
        target.current_version = version.version
        await _rate_and_announce(session, plan, target, version, caller, "target.rebaselined", now)
        units = await repository.indicator_units(session, [target.indicator_code])
    return TargetState(target, version, units.get(target.indicator_code))


def _given_or(value: float | None, default: float) -> float:
    return default if value is None else value


async def _target_or_404(session: AsyncSession, plan_id: str, target_id: str) -> Target:
    target = await repository.get_target(session, plan_id, target_id)
    if target is None:
        raise NotFound(f"No target with id '{target_id}' in plan '{plan_id}'.")
    return target


async def get_target(session: AsyncSession, *, plan_id: str, target_id: str) -> TargetState:
    target = await _target_or_404(session, plan_id, target_id)
    version = await repository.get_target_version(session, target.id, target.current_version)
    assert version is not None
    units = await repository.indicator_units(session, [target.indicator_code])
    return TargetState(target, version, units.get(target.indicator_code))


async def list_targets(
    session: AsyncSession, *, plan_id: str, cursor: str | None, limit: int
) -> PageOf[TargetState]:
    await plan_or_404(session, plan_id)
    rows = await repository.list_targets(session, plan_id, decode_created_cursor(cursor), limit)
    page = page_by_creation(rows, limit)
    versions = await repository.current_versions(session, page.items)
    units = await repository.indicator_units(session, [t.indicator_code for t in page.items])
    return PageOf(
        [TargetState(t, versions[t.id], units.get(t.indicator_code)) for t in page.items],
        page.next_cursor,
    )


async def get_target_as_of(
    session: AsyncSession, *, settings: Settings, plan_id: str, target_id: str, as_of: datetime
) -> TargetState:
    """A target as the system knew it at `as_of`; 404 if it (or its plan) was set later."""
    plan = await plan_as_of_or_404(session, plan_id, as_of)
    target = await _target_or_404(session, plan_id, target_id)
    if target.created_at > as_of:
        raise NotFound(
            f"No target with id '{target_id}' in plan '{plan_id}' as at {as_of.isoformat()}."
        )
    (state,) = await _states_as_of(session, settings, plan, [target], as_of)
    return state


async def list_targets_as_of(
    session: AsyncSession,
    *,
    settings: Settings,
    plan_id: str,
    cursor: str | None,
    limit: int,
    as_of: datetime,
) -> PageOf[TargetState]:
    """A plan's targets set by `as_of`, each with the version then in force."""
    plan = await plan_as_of_or_404(session, plan_id, as_of)
    rows = await repository.list_targets(
        session, plan_id, decode_created_cursor(cursor), limit, created_by=as_of
    )
    page = page_by_creation(rows, limit)
    return PageOf(await _states_as_of(session, settings, plan, page.items, as_of), page.next_cursor)


async def _states_as_of(
    session: AsyncSession, settings: Settings, plan: Plan, targets: list[Target], as_of: datetime
) -> list[TargetState]:
    versions = await repository.versions_of(session, targets)
    review = await repository.last_review_by(
        session, plan.id, held_by=local_today(settings.timezone, as_of), recorded_by=as_of
    )
    units = await repository.indicator_units(session, [t.indicator_code for t in targets])
    states = []
    for target in targets:
        by_number = {v.version: v for v in versions[target.id]}
        number = as_at.version_in_force({n: v.set_at for n, v in by_number.items()}, as_of)
        # Version 1 is set in the transaction that creates the target, at the same moment.
        assert number is not None, f"target {target.id} has no version by {as_of}"
        states.append(
            TargetState(target, by_number[number], units.get(target.indicator_code), as_of, review)
        )
    return states


async def list_target_versions(
    session: AsyncSession, *, plan_id: str, target_id: str
) -> Sequence[TargetVersion]:
    """Every version of a target's numbers, first to current."""
    target = await _target_or_404(session, plan_id, target_id)
    return await repository.list_target_versions(session, target.id)
