"""Routes for a plan's actions and their progress notes."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.actionplans.api.http import CursorQuery, LimitQuery, SettingsDep
from services.actionplans.api.shapes import action_read
from services.actionplans.domain import ActionStatus
from services.actionplans.schemas import (
    ActionCreate,
    ActionNoteCreate,
    ActionRead,
    ActionUpdate,
    Page,
)
from services.actionplans.service import actions
from services.actionplans.service.guards import local_today
from shared.app import SessionDep
from shared.auth import Caller, require_scope
from shared.clock import NowDep
from shared.etag import ExpectedVersion, set_etag

router = APIRouter(prefix="/api/v1/action-plans/{plan_id}/actions", tags=["actions"])
Reader = Annotated[Caller, require_scope("actionplans:read")]
Writer = Annotated[Caller, require_scope("actionplans:write")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ActionRead)
async def create_action(
    plan_id: str,
    body: ActionCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Writer,
) -> ActionRead:
    """Add an action: what, which organisation owns it, by when, and the referrals it deals with."""
    action = await actions.create_action(
        session, now=now, settings=settings, caller=caller, plan_id=plan_id, request=body
    )
    set_etag(response, action.version)
    response.headers["Location"] = f"/api/v1/action-plans/{plan_id}/actions/{action.id}"
    return action_read(action, local_today(settings.timezone, now))


@router.get("", response_model=Page[ActionRead])
async def list_actions(
    plan_id: str,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Reader,
    status: ActionStatus | None = None,
    owner_organisation: str | None = None,
    overdue: Annotated[bool, Query(description="Only open actions past their due date.")] = False,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ActionRead]:
    """A plan's actions, oldest first, filtered by status, owner or overdue."""
    page = await actions.list_actions(
        session,
        now=now,
        settings=settings,
        plan_id=plan_id,
        status=status.value if status else None,
        owner_organisation=owner_organisation,
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )
    today = local_today(settings.timezone, now)
    return Page(items=[action_read(a, today) for a in page.items], next_cursor=page.next_cursor)


@router.get("/{action_id}", response_model=ActionRead)
async def get_action(
    plan_id: str,
    action_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Reader,
) -> ActionRead:
    """Read one action with its progress notes."""
    found = await actions.get_action(
        session, now=now, settings=settings, plan_id=plan_id, action_id=action_id
    )
    set_etag(response, found.action.version)
    return action_read(found.action, local_today(settings.timezone, now), found.notes)


@router.patch("/{action_id}", response_model=ActionRead)
async def update_action(
    plan_id: str,
    action_id: str,
    body: ActionUpdate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Writer,
    expected: ExpectedVersion,
) -> ActionRead:
    """Change an action (status follows its lifecycle); If-Match carries the ETag you read."""
    action = await actions.update_action(
        session,
        now=now,
        settings=settings,
        caller=caller,
        plan_id=plan_id,
        action_id=action_id,
        expected_version=expected,
        request=body,
    )
    set_etag(response, action.version)
    return action_read(action, local_today(settings.timezone, now))


@router.post("/{action_id}/notes", status_code=status.HTTP_201_CREATED, response_model=ActionRead)
async def add_note(
    plan_id: str,
    action_id: str,
    body: ActionNoteCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    caller: Writer,
) -> ActionRead:
    """Add a progress note to an action."""
    found = await actions.add_note(
        session,
        now=now,
        settings=settings,
        caller=caller,
        plan_id=plan_id,
        action_id=action_id,
        request=body,
    )
    set_etag(response, found.action.version)
    return action_read(found.action, local_today(settings.timezone, now), found.notes)
