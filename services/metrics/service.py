"""Use cases of the metrics service."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.schemas import ReferralCount, ReferralCounts


async def count_referrals_received(
    session: AsyncSession, *, locality_code: str | None
) -> ReferralCounts:
    rows = await repository.count_referrals_by_locality(session, locality_code)
    return ReferralCounts(
        items=[ReferralCount(locality_code=c, referrals_received=n) for c, n in rows]
    )
