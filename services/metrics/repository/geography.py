"""Queries on the imported wards and LSOAs, and the observations that roll up from them."""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.models import GeographyArea, Observation


async def replace_all(session: AsyncSession, areas: Iterable[GeographyArea]) -> None:
    """The import is the whole truth: earlier rows go, these come."""
    await session.execute(delete(GeographyArea))
    session.add_all(list(areas))


async def of_locality(session: AsyncSession, locality_code: str) -> Sequence[GeographyArea]:
    query = (
        select(GeographyArea)
        .where(GeographyArea.locality_code == locality_code)
        .order_by(GeographyArea.kind.desc(), GeographyArea.gss_code)
    )
    return (await session.scalars(query)).all()


async def get(session: AsyncSession, gss_code: str) -> GeographyArea | None:
    return await session.get(GeographyArea, gss_code)


async def localities_of(session: AsyncSession, gss_codes: Iterable[str]) -> dict[str, str]:
    """gss code -> locality code for those of the codes that were imported."""
    wanted = sorted(set(gss_codes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # keeps the IN list within engine limits
        query = select(GeographyArea.gss_code, GeographyArea.locality_code).where(
            GeographyArea.gss_code.in_(wanted[start : start + 500])
        )
        found.update({code: locality for code, locality in (await session.execute(query)).all()})
    return found


async def current_values_in(
    session: AsyncSession, indicator_code: str, area_codes: Iterable[str]
) -> Sequence[tuple[str, date, date, str, float]]:
    """(area, period start, period end, label, value) of the current observations."""
    codes = sorted(set(area_codes))
    if not codes:
        return []
    query = (
        select(
            Observation.area_code,
            Observation.period_start,
            Observation.period_end,
            Observation.period_label,
            Observation.value,
        )
        .where(
            Observation.indicator_code == indicator_code,
            Observation.area_code.in_(codes),
            Observation.superseded_at.is_(None),
        )
        .order_by(Observation.period_start, Observation.area_code)
    )
    return [tuple(row) for row in (await session.execute(query)).all()]  # type: ignore[misc]
