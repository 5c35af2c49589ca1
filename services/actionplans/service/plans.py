"""Plan use cases: create, read, list, change, history, and the locality summary."""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain, events, repository
from services.actionplans.config import Settings
from services.actionplans.domain import as_at
from services.actionplans.models import OutboxEvent, Plan, PlanHistory
from services.actionplans.schemas import PlanCreate, PlanUpdate
from services.actionplans.service.guards import (
    changed_fields,
    ensure_editor,
    ensure_known_codes,
    ensure_locality,
    ensure_may_create,
    ensure_transition,
    local_today,
    plan_as_of_or_404,
    plan_or_404,
    record_change,
    reject_nulls,
)
from shared.auth import Caller
from shared.etag import ensure_version
from shared.localities import load_localities
from shared.objectives import load_objectives
from shared.outbox import add_event
from shared.pagination import (
    PageOf,
    decode_created_cursor,
    decode_sequence_cursor,
    page_by_creation,
    page_by_sequence,
)
from shared.problems import NotFound, Unprocessable


async def create_plan(
    session: AsyncSession, *, now: datetime, settings: Settings, caller: Caller, request: PlanCreate
) -> Plan:
    """Create a plan; the creating organisation joins its working group if not already in it."""
    ensure_locality(settings.localities_file, request.locality_code)
    ensure_may_create(
        caller, locality_code=request.locality_code, lead_organisation=request.lead_organisation
    )
    if request.status == domain.PlanStatus.CLOSED:
        raise Unprocessable(
            "A plan starts as draft or active.",
            errors=[{"field": "status", "message": "draft or active"}],
        )
    ensure_known_codes(
        load_objectives(settings.objectives_file), request.objective_codes, "objective_codes"
    )
    members = _members(request.lead_organisation, request.member_organisations)
    if caller.organisation != request.lead_organisation and caller.organisation not in members:
        members.append(caller.organisation)
    plan = Plan(
        id=str(uuid.uuid4()),
        title=request.title,
        locality_code=request.locality_code,
        objective_codes=list(dict.fromkeys(request.objective_codes)),
        lead_person=request.lead_person,
        lead_organisation=request.lead_organisation,
        member_organisations=members,
        status=request.status.value,
        review_cadence=request.review_cadence.value,
        next_review_on=request.next_review_on
        or domain.next_review_date(local_today(settings.timezone, now), request.review_cadence),
        created_at=now,
        updated_at=now,
    )
    async with session.begin():
        repository.add(session, plan)
        await session.flush()
        record_change(
            session,
            plan,
            change="plan.created",
            entity_id=plan.id,
            caller=caller,
            at=now,
            details=request.model_dump(mode="json"),
        )
        add_event(session, OutboxEvent, events.plan_created(plan, caller.organisation))
    return plan


def _members(lead: str, members: list[str]) -> list[str]:
    """Members without duplicates or the lead (who is always in the working group)."""
    return [m for m in dict.fromkeys(members) if m != lead]


async def get_plan(session: AsyncSession, *, plan_id: str) -> Plan:
    return await plan_or_404(session, plan_id)


async def list_plans(
    session: AsyncSession, *, where: domain.PlanFilter, cursor: str | None, limit: int
) -> PageOf[Plan]:
    rows = await repository.list_plans(session, where, decode_created_cursor(cursor), limit)
    return page_by_creation(rows, limit)


@dataclass(frozen=True)
class PlanAsAt:
    """A plan as it stood at `as_of`: its present with every later change undone."""

    id: str
    locality_code: str
    created_at: datetime
    updated_at: datetime
    version: int
    as_of: datetime
    title: str
    objective_codes: list[str]
    lead_person: str
    lead_organisation: str
    member_organisations: list[str]
    status: str
    review_cadence: str
    next_review_on: date | None


async def get_plan_as_of(
    session: AsyncSession, *, settings: Settings, plan_id: str, as_of: datetime
) -> PlanAsAt:
    """A plan as the system knew it at `as_of`; 404 if it was created later."""
    plan = await plan_as_of_or_404(session, plan_id, as_of)
    histories = await repository.histories(session, [plan.id])
    return _replay(plan, histories[plan.id], as_of, settings.timezone)


async def list_plans_as_of(
    session: AsyncSession,
    *,
    settings: Settings,
    where: domain.PlanFilter,
    cursor: str | None,
    limit: int,
    as_of: datetime,
) -> PageOf[PlanAsAt]:
    """Plans created by `as_of`, as they stood then, filtered on what they were then."""
    # Status, lead and objectives may have changed since: filter after replaying, a batch at a time.
    by_locality = domain.PlanFilter(locality_code=where.locality_code)
    key, found = decode_created_cursor(cursor), list[PlanAsAt]()
    while len(found) <= limit:
        rows = await repository.list_plans(session, by_locality, key, limit, created_by=as_of)
        histories = await repository.histories(session, [plan.id for plan in rows])
        for plan in rows:
            view = _replay(plan, histories[plan.id], as_of, settings.timezone)
            if where.admits(dataclasses.asdict(view)):
                found.append(view)
        if len(rows) <= limit:
            break
        key = (rows[-1].created_at, rows[-1].id)
    return page_by_creation(found[: limit + 1], limit)


def _replay(plan: Plan, history: list[PlanHistory], as_of: datetime, timezone: str) -> PlanAsAt:
    records = [as_at.HistoryRecord(h.change, h.changed_at, h.details) for h in history]
    state = as_at.plan_as_of(
        {field: getattr(plan, field) for field in as_at.PLAN_FIELDS},
        created_at=plan.created_at,
        history=records,
        as_of=as_of,
        initial=_initial_fields(plan, records, timezone),
    )
    return PlanAsAt(
        id=plan.id,
        locality_code=plan.locality_code,
        created_at=plan.created_at,
        updated_at=state.updated_at,
        version=state.version,
        as_of=as_of,
        **state.fields,
    )


def _initial_fields(
    plan: Plan, history: list[as_at.HistoryRecord], timezone: str
) -> dict[str, Any]:
    """The next review date at creation: as requested, or one cadence from that day."""
    created = next((r for r in history if r.change == "plan.created"), None)
    if created is None:
        return {}
    if created.details.get("next_review_on"):
        return {"next_review_on": date.fromisoformat(created.details["next_review_on"])}
    return {
        "next_review_on": domain.next_review_date(
            local_today(timezone, plan.created_at), created.details["review_cadence"]
        )
    }


async def update_plan(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    caller: Caller,
    plan_id: str,
    expected_version: int | None,
    request: PlanUpdate,
) -> Plan:
    """Change a plan's fields or status (enforced transitions), against the version read."""
    async with session.begin():
        plan = await plan_or_404(session, plan_id)
        ensure_editor(plan, caller)
        ensure_version(plan.version, expected_version)
        updates = request.model_dump(exclude_unset=True, mode="python")
        _validate_plan_update(settings, plan, updates)
        previous_status = plan.status
        if "status" in updates:
            updates["status"] = updates["status"].value
            if updates["status"] != plan.status:
                ensure_transition(domain.check_plan_transition, plan.status, updates["status"])
        if "review_cadence" in updates:
            updates["review_cadence"] = updates["review_cadence"].value
        lead = updates.get("lead_organisation", plan.lead_organisation)
        if lead != plan.lead_organisation and caller.organisation != plan.lead_organisation:
            # The lead may hand over; anyone else names a new lead only as at creation.
            ensure_may_create(caller, locality_code=plan.locality_code, lead_organisation=lead)
        if "member_organisations" in updates or "lead_organisation" in updates:
            updates["member_organisations"] = _members(
                lead, updates.get("member_organisations", plan.member_organisations)
            )
        changes = changed_fields(plan, updates)
        if not changes:
            return plan
        plan.updated_at = now
        record_change(
            session,
            plan,
            change="plan.updated",
            entity_id=plan.id,
            caller=caller,
            at=now,
            details=changes,
        )
        if plan.status != previous_status:
            add_event(
                session,
                OutboxEvent,
                events.plan_status_changed(plan, previous_status, caller.organisation, now),
            )
            if plan.status == domain.PlanStatus.ACTIVE:
                await _announce_red_targets(session, plan, now)
    return plan


async def _announce_red_targets(session: AsyncSession, plan: Plan, at: datetime) -> None:
    """A plan becoming active raises the alarm for targets already red while it was quiet."""
    for target in await repository.all_targets_of_plan(session, plan.id):
        if target.rag == domain.Rag.RED:
            add_event(session, OutboxEvent, events.target_off_track(plan, target, at))


def _validate_plan_update(settings: Settings, plan: Plan, updates: dict) -> None:
    reject_nulls(
        updates,
        (
            "title",
            "lead_person",
            "lead_organisation",
            "status",
            "review_cadence",
            "objective_codes",
            "member_organisations",
        ),
    )
    if "objective_codes" in updates:
        ensure_known_codes(
            load_objectives(settings.objectives_file), updates["objective_codes"], "objective_codes"
        )
        updates["objective_codes"] = list(dict.fromkeys(updates["objective_codes"]))


async def plan_history(
    session: AsyncSession, *, plan_id: str, cursor: str | None, limit: int
) -> PageOf[PlanHistory]:
    await plan_or_404(session, plan_id)
    rows = await repository.list_history(session, plan_id, decode_sequence_cursor(cursor), limit)
    return page_by_sequence(rows, limit)


@dataclass(frozen=True)
class PlanStanding:
    """Where a plan stands: its targets by RAG (None: no data yet), its actions, its review."""

    plan: Plan
    rag_counts: dict[str | None, int]
    open_actions: int
    overdue_actions: int
    review_due: bool


async def locality_summary(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    locality_code: str,
    where: domain.PlanFilter,
    cursor: str | None,
    limit: int,
) -> PageOf[PlanStanding]:
    """Every plan of a locality with its lead, RAG counts, overdue actions and next review."""
    if locality_code not in load_localities(settings.localities_file):
        raise NotFound(f"No locality with code '{locality_code}'.")
    where = dataclasses.replace(where, locality_code=locality_code)
    page = await list_plans(session, where=where, cursor=cursor, limit=limit)
    plan_ids = [plan.id for plan in page.items]
    today = local_today(settings.timezone, now)
    rags = await repository.rag_counts(session, plan_ids)
    actions = await repository.action_counts(session, plan_ids, today)
    items = [
        PlanStanding(
            plan=plan,
            rag_counts=rags[plan.id],
            open_actions=actions[plan.id][0],
            overdue_actions=actions[plan.id][1],
            review_due=plan.status == domain.PlanStatus.ACTIVE
            and plan.next_review_on is not None
            and plan.next_review_on <= today,
        )
        for plan in page.items
    ]
    return PageOf(items, page.next_cursor)
