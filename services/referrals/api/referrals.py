"""Routes for referrals themselves: intake, reading, listing, the taxonomy, overdue checks."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from services.referrals import shapes
from services.referrals.api.deps import NowDep, PageLimit, PurposeDep, SettingsDep, set_etag
from services.referrals.domain import ReferralFilters, ReferralStatus, Track
from services.referrals.schemas import (
    OverdueCheckResult,
    ReferralCreate,
    ReferralPage,
    ReferralRead,
    ReferralSummary,
)
from services.referrals.service import intake, overdue, reading
from shared.app import SessionDep
from shared.auth import Caller, require_scope
from shared.etag import etag
from shared.input_rules import IsoDateTime

router = APIRouter(prefix="/api/v1", tags=["referrals"])


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses={
        422: {"description": "Invalid field, or an Idempotency-Key reused for another body"}
    },
)
async def create_referral(
    body: ReferralCreate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:write")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Your id for this request: a retry with it returns the first answer.",
        ),
    ] = None,
) -> JSONResponse:
    """Receive a referral at the single point of contact; suggests a track."""
    outcome = await intake.create_referral(
        session,
        settings=settings,
        caller=caller,
        request=body,
        now=now,
        idempotency_key=idempotency_key,
    )
    if outcome.replayed_body is not None:
        answer, replayed = outcome.replayed_body, {"Idempotent-Replayed": "true"}
    elif outcome.kept_body is not None:
        answer, replayed = outcome.kept_body, {}
    else:
        assert outcome.referral is not None and outcome.repeats is not None
        answer = shapes.full(outcome.referral, outcome.repeats, now).model_dump(mode="json")
        replayed = {}
    headers = {
        "Location": f"/api/v1/referrals/{outcome.referral_id}",
        "ETag": etag(answer["version"]),
        **replayed,
    }
    return JSONResponse(answer, status_code=status.HTTP_201_CREATED, headers=headers)


@router.get("/referrals", response_model=ReferralPage)
async def list_referrals(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:read")],
    locality_code: Annotated[str | None, Query(max_length=16)] = None,
    status_: Annotated[ReferralStatus | None, Query(alias="status")] = None,
    track: Track | None = None,
    category_code: Annotated[str | None, Query(max_length=64)] = None,
    overdue_: Annotated[bool | None, Query(alias="overdue")] = None,
    received_from: IsoDateTime | None = None,
    received_to: IsoDateTime | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: PageLimit = None,
) -> ReferralPage:
    """List the referrals your organisation may see, newest first (no personal fields)."""
    filters = ReferralFilters(
        locality_code=locality_code,
        status=status_.value if status_ else None,
        track=track.value if track else None,
        category_code=category_code,
        overdue=overdue_,
        received_from=received_from,
        received_to=received_to,
    )
    page_size = min(limit or settings.default_page_size, settings.max_page_size)
    rows, next_cursor = await reading.list_referrals(
        session, caller=caller, filters=filters, cursor=cursor, limit=page_size, now=now
    )
    return ReferralPage(items=[shapes.summary(r, now) for r in rows], next_cursor=next_cursor)


@router.get("/referrals/{referral_id}", response_model=ReferralRead)
async def get_referral(
    referral_id: str,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    purpose: PurposeDep,
    caller: Annotated[Caller, require_scope("referrals:read")],
) -> ReferralRead:
    """Read one referral with its personal fields; the read is written to the audit log."""
    referral, repeats = await reading.read_referral(
        session,
        settings=settings,
        caller=caller,
        referral_id=referral_id,
        purpose=purpose,
        now=now,
    )
    set_etag(response, referral)
    return shapes.full(referral, repeats, now)


@router.get("/referrals/{referral_id}/status", response_model=ReferralSummary)
async def get_referral_status(
    referral_id: str,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:read")],
) -> ReferralSummary:
    """Read where one referral stands, without its personal fields (so the read is not audited)."""
    referral = await reading.read_status(session, caller=caller, referral_id=referral_id)
    set_etag(response, referral)
    return shapes.summary(referral, now)


@router.get("/referral-categories")
async def list_categories(
    settings: SettingsDep, caller: Annotated[Caller, require_scope("referrals:read")]
) -> dict[str, list[dict[str, Any]]]:
    """The configured category taxonomy: codes to use in `category_codes`."""
    return {"categories": settings.taxonomy().as_tree()}


@router.post("/referrals/overdue-checks", response_model=OverdueCheckResult)
async def check_overdue(
    session: SessionDep,
    now: NowDep,
    caller: Annotated[Caller, require_scope("referrals:triage")],
) -> OverdueCheckResult:
    """Announce every clock and partner task now past due (the service also does this
    periodically)."""
    notified = await overdue.notify_overdue(session, now=now)
    tasks_notified = await overdue.notify_overdue_tasks(session, now=now)
    return OverdueCheckResult(notified=notified, tasks_notified=tasks_notified, checked_at=now)
