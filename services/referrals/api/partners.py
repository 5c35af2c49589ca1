"""Routes for multi-agency work: partner tasks, case notes and explicit sharing."""

from typing import Annotated, Any

from fastapi import APIRouter, Response, status

from services.referrals.api.casework import PROBLEMS
from services.referrals.api.deps import IfMatch, NowDep, PurposeDep, set_etag
from services.referrals.schemas import (
    NoteCreate,
    NoteRead,
    ShareCreate,
    ShareRead,
    TaskComplete,
    TaskCreate,
    TaskDecline,
    TaskRead,
    TaskWithdraw,
)
from services.referrals.service import disclosure, partners, reading
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1/referrals/{referral_id}", tags=["multi-agency work"])
Writer = Annotated[Caller, require_scope("referrals:write")]
Reader = Annotated[Caller, require_scope("referrals:read")]
SHARE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    403: {"description": "Only the owning organisations share"},
}
TASK_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    403: {"description": "The task belongs to another organisation"},
}


ASSIGN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    403: {"description": "Only the lead organisation or the locality hub assigns or withdraws"},
}


@router.post(
    "/tasks",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
    responses=ASSIGN_PROBLEMS,
)
async def assign_task(
    referral_id: str,
    body: TaskCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> TaskRead:
    """Assign a task to a partner organisation, for a purpose and on a lawful basis.

    The partner can then see the referral, so only the lead or the hub may do this.
    """
    referral, task = await partners.assign_task(
        session, caller=caller, referral_id=referral_id, if_match=if_match, request=body, now=now
    )
    set_etag(response, referral)
    return TaskRead.model_validate(task)


@router.get("/tasks", response_model=list[TaskRead])
async def list_tasks(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    purpose: PurposeDep,
    caller: Reader,
) -> list[TaskRead]:
    """The referral's partner tasks (audited: descriptions may be personal)."""
    referral, tasks = await reading.read_tasks(
        session, caller=caller, referral_id=referral_id, purpose=purpose, now=now
    )
    set_etag(response, referral)
    return [TaskRead.model_validate(task) for task in tasks]


@router.post("/tasks/{task_id}/accept", response_model=TaskRead, responses=TASK_PROBLEMS)
async def accept_task(
    referral_id: str,
    task_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> TaskRead:
    """Accept a task assigned to your organisation (the first partner contact)."""
    referral, task = await partners.accept_task(
        session,
        caller=caller,
        referral_id=referral_id,
        task_id=task_id,
        if_match=if_match,
        now=now,
    )
    set_etag(response, referral)
    return TaskRead.model_validate(task)


@router.post("/tasks/{task_id}/decline", response_model=TaskRead, responses=TASK_PROBLEMS)
async def decline_task(
    referral_id: str,
    task_id: str,
    body: TaskDecline,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> TaskRead:
    """Decline a task assigned to your organisation, with a reason."""
    referral, task = await partners.decline_task(
        session,
        caller=caller,
        referral_id=referral_id,
        task_id=task_id,
        if_match=if_match,
        request=body,
        now=now,
    )
    set_etag(response, referral)
    return TaskRead.model_validate(task)


@router.post("/tasks/{task_id}/complete", response_model=TaskRead, responses=TASK_PROBLEMS)
async def complete_task(
    referral_id: str,
    task_id: str,
    body: TaskComplete,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> TaskRead:
    """Complete an accepted task with a structured outcome."""
    referral, task = await partners.complete_task(
        session,
        caller=caller,
        referral_id=referral_id,
        task_id=task_id,
        if_match=if_match,
        request=body,
        now=now,
    )
    set_etag(response, referral)
    return TaskRead.model_validate(task)


@router.post("/tasks/{task_id}/withdraw", response_model=TaskRead, responses=ASSIGN_PROBLEMS)
async def withdraw_task(
    referral_id: str,
    task_id: str,
    body: TaskWithdraw,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> TaskRead:
    """Take back an assigned or accepted task (lead or hub); the partner's access ends."""
    referral, task = await disclosure.withdraw_task(
        session,
        caller=caller,
        referral_id=referral_id,
        task_id=task_id,
        if_match=if_match,
        request=body,
        now=now,
    )
    set_etag(response, referral)
    return TaskRead.model_validate(task)


@router.post(
    "/notes", status_code=status.HTTP_201_CREATED, response_model=NoteRead, responses=PROBLEMS
)
async def add_note(
    referral_id: str,
    body: NoteCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> NoteRead:
    """Add a case note."""
    referral, note = await partners.add_note(
        session, caller=caller, referral_id=referral_id, if_match=if_match, request=body, now=now
    )
    set_etag(response, referral)
    return NoteRead.model_validate(note)


@router.get("/notes", response_model=list[NoteRead])
async def list_notes(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    purpose: PurposeDep,
    caller: Reader,
) -> list[NoteRead]:
    """The referral's case notes, oldest first (audited)."""
    referral, notes = await reading.read_notes(
        session, caller=caller, referral_id=referral_id, purpose=purpose, now=now
    )
    set_etag(response, referral)
    return [NoteRead.model_validate(note) for note in notes]


@router.post(
    "/shares",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareRead,
    responses=SHARE_PROBLEMS,
)
async def share_referral(
    referral_id: str,
    body: ShareCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> ShareRead:
    """Share the referral with another organisation, for a purpose and on a lawful basis."""
    referral, share = await partners.share_referral(
        session, caller=caller, referral_id=referral_id, if_match=if_match, request=body, now=now
    )
    set_etag(response, referral)
    return ShareRead.model_validate(share)


@router.get("/shares", response_model=list[ShareRead])
async def list_shares(
    referral_id: str, response: Response, session: SessionDep, caller: Reader
) -> list[ShareRead]:
    """The organisations this referral was explicitly shared with, and why."""
    referral, shares = await reading.read_shares(session, caller=caller, referral_id=referral_id)
    set_etag(response, referral)
    return [ShareRead.model_validate(share) for share in shares]


@router.delete(
    "/shares/{organisation}", status_code=status.HTTP_204_NO_CONTENT, responses=SHARE_PROBLEMS
)
async def revoke_share(
    referral_id: str,
    organisation: str,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    if_match: IfMatch = None,
) -> Response:
    """Stop sharing the referral with an organisation (it no longer sees it unless involved)."""
    referral = await partners.revoke_share(
        session,
        caller=caller,
        referral_id=referral_id,
        organisation=organisation,
        if_match=if_match,
        now=now,
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_etag(response, referral)
    return response
