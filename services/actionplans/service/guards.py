"""Checks and records every plan use case needs: the plan exists, the caller may edit it,
the caller saw the current version, and the change goes into the plan's history."""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain, repository
from services.actionplans.domain.ownership import locality_hub, may_change_plan, may_create_plan
from services.actionplans.models import Plan, PlanHistory
from shared.auth import Caller
from shared.localities import load_localities
from shared.problems import Conflict, Forbidden, NotFound, Unprocessable


def local_today(timezone: str, now: datetime) -> date:
    """Today's date where the councils are: due dates are calendar dates there."""
    return now.astimezone(ZoneInfo(timezone)).date()


async def plan_or_404(session: AsyncSession, plan_id: str) -> Plan:
    plan = await repository.get_plan(session, plan_id)
    if plan is None:
        raise NotFound(f"No action plan with id '{plan_id}'.")
    return plan


async def plan_as_of_or_404(session: AsyncSession, plan_id: str, as_of: datetime | None) -> Plan:
    """The plan, when it exists and (with `as_of`) had been created by then."""
    plan = await plan_or_404(session, plan_id)
    if as_of is not None and plan.created_at > as_of:
        raise NotFound(f"No action plan with id '{plan_id}' as at {as_of.isoformat()}.")
    return plan


async def plan_to_change(session: AsyncSession, plan_id: str, caller: Caller) -> Plan:
    """The plan, when it exists, the caller may edit it and it is not closed."""
    plan = await plan_or_404(session, plan_id)
    ensure_editor(plan, caller)
    ensure_open(plan)
    return plan


def ensure_editor(plan: Plan, caller: Caller) -> None:
    """Only the lead, member organisations and the locality's hub (or an administrator)."""
    if caller.has_scope("admin") or may_change_plan(
        caller.organisation,
        locality_code=plan.locality_code,
        lead_organisation=plan.lead_organisation,
        members=plan.member_organisations,
    ):
        return
    raise Forbidden(
        f"Organisation '{caller.organisation}' is neither the lead nor a member of this plan "
        "nor its locality's hub; only they may change it."
    )


def ensure_may_create(caller: Caller, *, locality_code: str, lead_organisation: str) -> None:
    """Naming a lead commits that organisation: only it, the hub or an administrator may."""
    if caller.has_scope("admin") or may_create_plan(
        caller.organisation, locality_code=locality_code, lead_organisation=lead_organisation
    ):
        return
    raise Forbidden(
        f"Organisation '{caller.organisation}' may not create a plan led by "
        f"'{lead_organisation}': only the lead itself or the locality's hub "
        f"({locality_hub(locality_code)}) may."
    )


def ensure_open(plan: Plan) -> None:
    """A closed plan is a record: reopen it before changing what is in it."""
    if plan.status == domain.PlanStatus.CLOSED:
        raise Conflict("The plan is closed; set its status to active to change it.")


def ensure_transition(check: Callable[[str, str], None], current: str, requested: str) -> None:
    """Run a lifecycle check; a refused change is a 409 that lists the allowed ones."""
    try:
        check(current, requested)
    except domain.TransitionRefused as refused:
        raise Conflict(str(refused)) from refused


def reject_nulls(updates: dict[str, Any], fields: Iterable[str]) -> None:
    """PATCH may omit a required field, never set it to null."""
    for field in fields:
        if field in updates and updates[field] is None:
            raise Unprocessable(
                f"'{field}' cannot be null.", errors=[{"field": field, "message": "cannot be null"}]
            )


def ensure_locality(locality_file: Any, code: str, field: str = "locality_code") -> None:
    localities = load_localities(locality_file)
    if code not in localities:
        raise Unprocessable(
            f"Unknown locality '{code}'.",
            errors=[{"field": field, "message": f"known: {', '.join(sorted(localities))}"}],
        )


def ensure_known_codes(known: Iterable[str], given: Iterable[str], field: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise Unprocessable(
            f"Unknown {field}: {', '.join(unknown)}.",
            errors=[{"field": field, "message": f"known: {', '.join(sorted(known))}"}],
        )


def record_change(
    session: AsyncSession,
    plan: Plan,
    *,
    change: str,
    entity_id: str,
    details: dict[str, Any],
    caller: Caller | None,
    at: datetime,
) -> None:
    """Append to the plan's history; `caller` None means the service itself (an event)."""
    repository.add(
        session,
        PlanHistory(
            plan_id=plan.id,
            changed_at=at,
            subject=caller.subject if caller else "system",
            organisation=caller.organisation if caller else "SYSTEM",
            change=change,
            entity_id=entity_id,
            details=details,
        ),
    )


def changed_fields(row: Any, updates: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Apply `updates` to `row`; returns {field: {"from": old, "to": new}} for real changes."""
    changes = {}
    for name, value in updates.items():
        old = getattr(row, name)
        if old != value:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(value)}
            setattr(row, name, value)
    return changes


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value
