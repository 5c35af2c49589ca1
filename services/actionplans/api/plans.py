"""Routes for plans, their history, the objectives they serve and the locality summary."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.actionplans import domain
from services.actionplans.api.http import AsOfQuery, CursorQuery, LimitQuery, SettingsDep, as_utc
from services.actionplans.api.shapes import plan_summary
from services.actionplans.domain import PlanStatus
from services.actionplans.schemas import (
    HistoryEntry,
    Objective,
    ObjectiveList,
    Page,
    PlanCreate,
    PlanRead,
    PlanSummary,
    PlanUpdate,
)
from services.actionplans.service import plans
from shared.app import SessionDep
from shared.auth import Caller, require_scope
from shared.clock import NowDep
from shared.etag import ExpectedVersion, set_etag
from shared.objectives import load_objectives

router = APIRouter(prefix="/api/v1", tags=["action plans"])
Reader = Annotated[Caller, require_scope("actionplans:read")]
Writer = Annotated[Caller, require_scope("actionplans:write")]


@router.get("/objectives", response_model=ObjectiveList)
async def list_objectives(settings: SettingsDep, caller: Reader) -> ObjectiveList:
    """The objectives a plan can serve (configuration)."""
    objectives = load_objectives(settings.objectives_file).values()
    return ObjectiveList(items=[Objective(code=o.code, title=o.title) for o in objectives])


@router.post("/action-plans", status_code=status.HTTP_201_CREATED, response_model=PlanRead)
async def create_plan(
    body: PlanCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Writer,
) -> PlanRead:
    """Create an action plan for a locality, with its lead and working group."""
    plan = await plans.create_plan(session, now=now, settings=settings, caller=caller, request=body)
    set_etag(response, plan.version)
    response.headers["Location"] = f"/api/v1/action-plans/{plan.id}"
    return PlanRead.model_validate(plan)


@router.get("/action-plans", response_model=Page[PlanRead])
async def list_plans(
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    locality: Annotated[str | None, Query(description="Locality code, e.g. NP.")] = None,
    status: PlanStatus | None = None,
    lead_organisation: str | None = None,
    objective: Annotated[str | None, Query(description="Objective code served.")] = None,
    as_of: AsOfQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PlanRead]:
    """List action plans, oldest first, filtered by locality, status, lead or objective.

    With `as_of`: the plans created by then, as they stood then, filtered on their values then.
    """
    where = domain.PlanFilter(
        locality_code=locality,
        status=status.value if status else None,
        lead_organisation=lead_organisation,
        objective_code=objective,
    )
    moment = as_utc(as_of)
    page = (
        await plans.list_plans(session, where=where, cursor=cursor, limit=limit)
        if moment is None
        else await plans.list_plans_as_of(
            session, settings=settings, where=where, cursor=cursor, limit=limit, as_of=moment
        )
    )
    return Page(
        items=[PlanRead.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/action-plans/{plan_id}", response_model=PlanRead)
async def get_plan(
    plan_id: str,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    as_of: AsOfQuery = None,
) -> PlanRead:
    """Read one action plan; its ETag goes in If-Match when you change it.

    With `as_of`: the plan as it stood then (404 if created later), without an ETag.
    """
    moment = as_utc(as_of)
    if moment is not None:
        past = await plans.get_plan_as_of(session, settings=settings, plan_id=plan_id, as_of=moment)
        return PlanRead.model_validate(past)
    plan = await plans.get_plan(session, plan_id=plan_id)
    set_etag(response, plan.version)
    return PlanRead.model_validate(plan)


@router.patch("/action-plans/{plan_id}", response_model=PlanRead)
async def update_plan(
    plan_id: str,
    body: PlanUpdate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Writer,
    expected: ExpectedVersion,
) -> PlanRead:
    """Change a plan (lead and member organisations only); status: draft -> active -> closed."""
    plan = await plans.update_plan(
        session,
        now=now,
        settings=settings,
        caller=caller,
        plan_id=plan_id,
        expected_version=expected,
        request=body,
    )
    set_etag(response, plan.version)
    return PlanRead.model_validate(plan)


@router.get("/action-plans/{plan_id}/history", response_model=Page[HistoryEntry])
async def plan_history(
    plan_id: str,
    session: SessionDep,
    caller: Reader,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[HistoryEntry]:
    """Every change to the plan and what is in it: who, which organisation, when, what."""
    page = await plans.plan_history(session, plan_id=plan_id, cursor=cursor, limit=limit)
    return Page(
        items=[HistoryEntry.model_validate(h) for h in page.items], next_cursor=page.next_cursor
    )


@router.get("/localities/{code}/action-plans", response_model=Page[PlanSummary])
async def locality_summary(
    code: str,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Reader,
    status: PlanStatus | None = None,
    lead_organisation: str | None = None,
    objective: Annotated[str | None, Query(description="Objective code served.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PlanSummary]:
    """Every plan of a locality: lead, RAG counts of its targets, overdue actions, next review."""
    page = await plans.locality_summary(
        session,
        now=now,
        settings=settings,
        locality_code=code,
        where=domain.PlanFilter(
            status=status.value if status else None,
            lead_organisation=lead_organisation,
            objective_code=objective,
        ),
        cursor=cursor,
        limit=limit,
    )
    return Page(
        items=[plan_summary(standing) for standing in page.items], next_cursor=page.next_cursor
    )
