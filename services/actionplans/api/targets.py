"""Routes for a plan's SMART targets and their versions."""

from typing import Annotated

from fastapi import APIRouter, Response, status

from services.actionplans.api.http import (
    AsOfQuery,
    CursorQuery,
    LimitQuery,
    SettingsDep,
    as_utc,
)
from services.actionplans.api.shapes import target_read
from services.actionplans.schemas import (
    Page,
    TargetCreate,
    TargetRead,
    TargetRebaseline,
    TargetVersionRead,
)
from services.actionplans.service import targets
from shared.app import SessionDep
from shared.auth import Caller, require_scope
from shared.clock import NowDep
from shared.etag import ExpectedVersion, set_etag

router = APIRouter(prefix="/api/v1/action-plans/{plan_id}/targets", tags=["targets"])
Reader = Annotated[Caller, require_scope("actionplans:read")]
Writer = Annotated[Caller, require_scope("actionplans:write")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TargetRead)
async def set_target(
    plan_id: str,
    body: TargetCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
) -> TargetRead:
    """Set a SMART target on a PMF indicator: baseline, target value and date, amber tolerance."""
    state = await targets.set_target(session, now=now, caller=caller, plan_id=plan_id, request=body)
    set_etag(response, state.target.version)
    response.headers["Location"] = f"/api/v1/action-plans/{plan_id}/targets/{state.target.id}"
    return target_read(state)


@router.get("", response_model=Page[TargetRead])
async def list_targets(
    plan_id: str,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    as_of: AsOfQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[TargetRead]:
    """A plan's targets with their current value, trajectory, RAG and trend.

    With `as_of`: the targets set by then, each with the version then in force and the value
    and RAG frozen at the last review by then.
    """
    moment = as_utc(as_of)
    page = (
        await targets.list_targets(session, plan_id=plan_id, cursor=cursor, limit=limit)
        if moment is None
        else await targets.list_targets_as_of(
            session, settings=settings, plan_id=plan_id, cursor=cursor, limit=limit, as_of=moment
        )
    )
    return Page(items=[target_read(state) for state in page.items], next_cursor=page.next_cursor)


@router.get("/{target_id}", response_model=TargetRead)
async def get_target(
    plan_id: str,
    target_id: str,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    as_of: AsOfQuery = None,
) -> TargetRead:
    """Read one target; its ETag goes in If-Match when you re-baseline it.

    With `as_of`: the target as known then (404 if set later), without an ETag.
    """
    moment = as_utc(as_of)
    if moment is not None:
        past = await targets.get_target_as_of(
            session, settings=settings, plan_id=plan_id, target_id=target_id, as_of=moment
        )
        return target_read(past)
    state = await targets.get_target(session, plan_id=plan_id, target_id=target_id)
    set_etag(response, state.target.version)
    return target_read(state)


@router.post(
    "/{target_id}/versions", status_code=status.HTTP_201_CREATED, response_model=TargetRead
)
async def rebaseline_target(
    plan_id: str,
    target_id: str,
    body: TargetRebaseline,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    expected: ExpectedVersion,
) -> TargetRead:
    """Re-baseline a target: a new version; earlier versions are kept and stay readable."""
    state = await targets.rebaseline_target(
        session,
        now=now,
        caller=caller,
        plan_id=plan_id,
        target_id=target_id,
        expected_version=expected,
        request=body,
    )
    set_etag(response, state.target.version)
    return target_read(state)


@router.get("/{target_id}/versions", response_model=list[TargetVersionRead])
async def list_target_versions(
    plan_id: str, target_id: str, session: SessionDep, caller: Reader
) -> list[TargetVersionRead]:
    """Every version of a target's numbers, first to current."""
    versions = await targets.list_target_versions(session, plan_id=plan_id, target_id=target_id)
    return [TargetVersionRead.model_validate(version) for version in versions]
