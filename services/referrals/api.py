"""HTTP routes of the referrals service: parse, call the use case, shape the response."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from services.referrals import service
from services.referrals.config import Settings
from services.referrals.schemas import ReferralCreate, ReferralRead
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1", tags=["referrals"])


def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


@router.post("/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralRead)
async def create_referral(
    body: ReferralCreate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Annotated[Caller, require_scope("referrals:write")],
) -> ReferralRead:
    """Receive a referral at the single point of contact."""
    referral = await service.create_referral(
        session, settings=settings, caller=caller, request=body
    )
    return ReferralRead.model_validate(referral)


@router.get("/referrals/{referral_id}", response_model=ReferralRead)
async def get_referral(
    referral_id: str,
    session: SessionDep,
    caller: Annotated[Caller, require_scope("referrals:read")],
) -> ReferralRead:
    """Read one referral."""
    referral = await service.get_referral(session, referral_id=referral_id)
    return ReferralRead.model_validate(referral)
