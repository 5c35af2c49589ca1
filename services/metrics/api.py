"""HTTP routes of the metrics service."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.metrics import service
from services.metrics.schemas import ReferralCounts
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1", tags=["metrics"])


@router.get("/derived/referrals-received", response_model=ReferralCounts)
async def referrals_received(
    session: SessionDep,
    caller: Annotated[Caller, require_scope("metrics:read")],
    locality: Annotated[str | None, Query(max_length=16, description="one locality code")] = None,
) -> ReferralCounts:
    """Referrals received per locality, counted from the referrals event stream."""
    return await service.count_referrals_received(session, locality_code=locality)
