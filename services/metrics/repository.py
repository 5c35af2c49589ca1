"""Every query of the metrics service."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.models import ReferralFact


async def add_referral_fact(session: AsyncSession, fact: ReferralFact) -> None:
    """Insert a fact unless one for the referral exists (a replayed event changes nothing)."""
    if await session.get(ReferralFact, fact.referral_id) is None:
        session.add(fact)


async def count_referrals_by_locality(
    session: AsyncSession, locality_code: str | None
) -> list[tuple[str, int]]:
    query = select(ReferralFact.locality_code, func.count()).group_by(ReferralFact.locality_code)
    if locality_code:
        query = query.where(ReferralFact.locality_code == locality_code)
    rows = await session.execute(query.order_by(ReferralFact.locality_code))
    return [(code, count) for code, count in rows.all()]
