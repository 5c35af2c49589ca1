"""Use cases of the referrals service: one async function and one transaction each."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import domain, events, repository
from services.referrals.config import Settings
from services.referrals.models import OutboxEvent, Referral
from services.referrals.schemas import ReferralCreate
from shared.auth import Caller
from shared.localities import load_localities
from shared.outbox import add_event
from shared.problems import NotFound, Unprocessable


async def create_referral(
    session: AsyncSession, *, settings: Settings, caller: Caller, request: ReferralCreate
) -> Referral:
    """Record a new referral and its `received` event in one transaction."""
    localities = load_localities(settings.localities_file)
    if request.locality_code not in localities:
        raise Unprocessable(
            f"Unknown locality '{request.locality_code}'.",
            errors=[
                {
                    "field": "locality_code",
                    "message": f"known localities: {', '.join(sorted(localities))}",
                }
            ],
        )
    received_at = datetime.now(UTC)
    async with session.begin():
        number = await repository.next_reference_number(
            session, request.locality_code, received_at.year
        )
        referral = Referral(
            id=str(uuid.uuid4()),
            reference=domain.format_reference(request.locality_code, received_at.year, number),
            locality_code=request.locality_code,
            channel=request.channel.value,
            category_codes=request.category_codes,
            summary=request.summary,
            description=request.description,
            status=domain.ReferralStatus.RECEIVED.value,
            received_at=received_at,
            created_by_organisation=caller.organisation,
            created_by_subject=caller.subject,
            external_ref=request.external_ref,
            version=1,
        )
        repository.add(session, referral)
        add_event(session, OutboxEvent, events.referral_received(referral))
    return referral


async def get_referral(session: AsyncSession, *, referral_id: str) -> Referral:
    referral = await repository.get(session, referral_id)
    if referral is None:
        raise NotFound(f"No referral with id '{referral_id}'.")
    return referral
