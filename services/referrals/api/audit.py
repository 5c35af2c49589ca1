"""The audit log of reads of personal fields: readable by auditors, changeable by nobody."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.referrals.api.deps import PageLimit, SettingsDep
from services.referrals.schemas import AuditPage, AuditRead
from services.referrals.service import reading
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPage)
async def list_audit_records(
    session: SessionDep,
    settings: SettingsDep,
    caller: Annotated[Caller, require_scope("audit:read")],
    referral_id: Annotated[str | None, Query(max_length=36)] = None,
    organisation: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = None,
) -> AuditPage:
    """Who read which referral's personal fields, when and why (oldest first).

    With `audit:read`: the reads of referrals your organisation made, leads or coordinates,
    and the reads your own staff made. The whole log needs `admin`.
    """
    page_size = min(limit or settings.default_page_size, settings.max_page_size)
    rows, next_cursor = await reading.list_audit(
        session,
        caller=caller,
        referral_id=referral_id,
        organisation=organisation,
        cursor=cursor,
        limit=page_size,
    )
    return AuditPage(items=[AuditRead.model_validate(r) for r in rows], next_cursor=next_cursor)
