"""Routes for a plan's review meetings."""

from typing import Annotated

from fastapi import APIRouter, Response, status

from services.actionplans.api.http import CursorQuery, LimitQuery
from services.actionplans.schemas import Page, ReviewCreate, ReviewRead
from services.actionplans.service import reviews
from shared.app import SessionDep
from shared.auth import Caller, require_scope
from shared.clock import NowDep

router = APIRouter(prefix="/api/v1/action-plans/{plan_id}/reviews", tags=["reviews"])
Reader = Annotated[Caller, require_scope("actionplans:read")]
Writer = Annotated[Caller, require_scope("actionplans:write")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReviewRead)
async def record_review(
    plan_id: str,
    body: ReviewCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
) -> ReviewRead:
    """Record a review meeting; each target's value and RAG are frozen as they stand now."""
    review = await reviews.record_review(
        session, now=now, caller=caller, plan_id=plan_id, request=body
    )
    response.headers["Location"] = f"/api/v1/action-plans/{plan_id}/reviews/{review.id}"
    return ReviewRead.model_validate(review)


@router.get("", response_model=Page[ReviewRead])
async def list_reviews(
    plan_id: str,
    session: SessionDep,
    caller: Reader,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ReviewRead]:
    """A plan's reviews in the order they were recorded."""
    page = await reviews.list_reviews(session, plan_id=plan_id, cursor=cursor, limit=limit)
    return Page(
        items=[ReviewRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/{review_id}", response_model=ReviewRead)
async def get_review(
    plan_id: str, review_id: str, session: SessionDep, caller: Reader
) -> ReviewRead:
    """Read one review, with the targets as the meeting saw them."""
    return ReviewRead.model_validate(
        await reviews.get_review(session, plan_id=plan_id, review_id=review_id)
    )
