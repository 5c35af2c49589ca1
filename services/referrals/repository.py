"""Every query of the referrals service."""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.models import ReferenceCounter, Referral
from shared.db import dialect_name


async def get(session: AsyncSession, referral_id: str) -> Referral | None:
    return await session.get(Referral, referral_id)


def add(session: AsyncSession, referral: Referral) -> None:
    session.add(referral)


async def next_reference_number(session: AsyncSession, locality_code: str, year: int) -> int:
    """Take the next number for a locality and year; the row lock serialises concurrent intakes."""
    insert = postgresql_insert if dialect_name(session) == "postgresql" else sqlite_insert
    await session.execute(
        insert(ReferenceCounter)
        .values(locality_code=locality_code, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["locality_code", "year"])
    )
    number = await session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.locality_code == locality_code, ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    )
    assert number is not None
    return number
