"""Routes that move a referral through its lifecycle: triage, start, resolve, close, reopen."""

from typing import Annotated, Any

from fastapi import APIRouter, Response

from services.referrals import shapes
from services.referrals.api.deps import IfMatch, NowDep, PurposeDep, SettingsDep, set_etag
from services.referrals.schemas import (
    HistoryRead,
    ReferralSummary,
    ReopenRequest,
    ResolveRequest,
    TriageRequest,
)
from services.referrals.service import casework, reading
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1/referrals/{referral_id}", tags=["lifecycle"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such referral, or not visible to your organisation"},
    409: {"description": "The lifecycle does not allow this now"},
    412: {"description": "If-Match does not name the current ETag"},
    428: {"description": "If-Match is missing"},
}


@router.post("/triage", response_model=ReferralSummary, responses=PROBLEMS)
async def triage_referral(
    referral_id: str,
    body: TriageRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:triage")],
    if_match: IfMatch = None,
) -> ReferralSummary:
    """Record the triage decision (it may differ from the suggestion) and start the clock."""
    referral = await casework.triage_referral(
        session,
        settings=settings,
        caller=caller,
        referral_id=referral_id,
        if_match=if_match,
        request=body,
        now=now,
    )
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.post("/start", response_model=ReferralSummary, responses=PROBLEMS)
async def start_work(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:write")],
    if_match: IfMatch = None,
) -> ReferralSummary:
    """Mark a triaged referral as in progress."""
    referral = await casework.start_work(
        session, caller=caller, referral_id=referral_id, if_match=if_match, now=now
    )
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.post("/resolve", response_model=ReferralSummary, responses=PROBLEMS)
async def resolve_referral(
    referral_id: str,
    body: ResolveRequest,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:write")],
    if_match: IfMatch = None,
) -> ReferralSummary:
    """Resolve with a structured outcome; unsuccessful outcomes need a reason."""
    referral = await casework.resolve_referral(
        session, caller=caller, referral_id=referral_id, if_match=if_match, request=body, now=now
    )
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.post("/close", response_model=ReferralSummary, responses=PROBLEMS)
async def close_referral(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:triage")],
    if_match: IfMatch = None,
) -> ReferralSummary:
    """Close a resolved referral."""
    referral = await casework.close_referral(
        session, caller=caller, referral_id=referral_id, if_match=if_match, now=now
    )
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.post("/reopen", response_model=ReferralSummary, responses=PROBLEMS)
async def reopen_referral(
    referral_id: str,
    body: ReopenRequest,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:triage")],
    if_match: IfMatch = None,
) -> ReferralSummary:
    """Reopen a resolved or closed referral, saying why."""
    referral = await casework.reopen_referral(
        session, caller=caller, referral_id=referral_id, if_match=if_match, request=body, now=now
    )
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.get("/history", response_model=list[HistoryRead])
async def read_history(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    purpose: PurposeDep,
    caller: Annotated[Caller, require_scope("referrals:read")],
) -> list[HistoryRead]:
    """Every change to the referral: who, which organisation, when and what (audited)."""
    referral, entries = await reading.read_history(
        session, caller=caller, referral_id=referral_id, purpose=purpose, now=now
    )
    set_etag(response, referral)
    return [HistoryRead.model_validate(entry) for entry in entries]
