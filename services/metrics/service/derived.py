"""Derived indicators: series computed from the referral and action facts, in the database."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.areas import Area
from services.metrics.domain import Granularity, period_end_for, period_label
from services.metrics.domain.analysis import Point
from services.metrics.repository import facts
from services.metrics.repository.facts import DerivedRow
from shared.problems import NotFound

Calculation = Callable[
    [AsyncSession, Granularity, Sequence[str] | None, datetime | None],
    Awaitable[list[DerivedRow]],
]


async def _see_and_solve_share(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None,
    as_of: datetime | None,
) -> list[DerivedRow]:
    return (await facts.triage_shares(session, granularity, localities, as_of))[0]


async def _multi_agency_share(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None,
    as_of: datetime | None,
) -> list[DerivedRow]:
    return (await facts.triage_shares(session, granularity, localities, as_of))[1]


CALCULATIONS: dict[str, Calculation] = {
    "referrals_received": facts.referrals_received,
    "see_and_solve_share": _see_and_solve_share,
    "multi_agency_share": _multi_agency_share,
    "see_and_solve_within_day": facts.see_and_solve_within_day,
    "median_days_to_resolution": facts.median_days_to_resolution,
    "overdue_referrals": facts.overdue_referrals,
    "overdue_actions": facts.overdue_actions,
}


def check_localities(areas: dict[str, Area], codes: Sequence[str] | None) -> None:
    """Refuse a locality nobody configured, rather than answer an empty series."""
    for code in codes or ():
        area = areas.get(code)
        if area is None or area.kind != "locality":
            raise NotFound(f"No locality '{code}'.", field="locality")


def to_point(row: DerivedRow, granularity: Granularity) -> Point:
    return Point(
        period_start=row.period_start,
        period_end=period_end_for(granularity, row.period_start),
        period_label=period_label(granularity, row.period_start),
        value=row.value,
        numerator=row.numerator,
        denominator=row.denominator,
    )


def within(points: list[Point], first_day: date | None, last_day: date | None) -> list[Point]:
    """The whole periods inside [first_day, last_day] (a period cut by a bound is left out)."""
    return [
        p
        for p in points
        if (first_day is None or p.period_start >= first_day)
        and (last_day is None or p.period_end <= last_day)
    ]


async def derived_series(
    session: AsyncSession,
    indicator_code: str,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> dict[str, list[Point]]:
    """One derived indicator's series per locality, oldest period first, as the facts stood
    at `as_of` (by event time; now when None)."""
    rows = await CALCULATIONS[indicator_code](session, granularity, localities, as_of)
    series: dict[str, list[Point]] = defaultdict(list)
    for row in rows:
        series[row.locality_code].append(to_point(row, granularity))
    return dict(series)


async def rebuild_all(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> dict[str, dict[str, list[Point]]]:
    """Every derived indicator for the localities: {indicator code: {locality: series}}."""
    shares, multi = await facts.triage_shares(session, granularity, localities, as_of)
    results: dict[str, list[DerivedRow]] = {
        "see_and_solve_share": shares,
        "multi_agency_share": multi,
    }
    for code, calculation in CALCULATIONS.items():
        if code not in results:
            results[code] = await calculation(session, granularity, localities, as_of)
    grouped: dict[str, dict[str, list[Point]]] = {}
    for code, rows in results.items():
        per_locality: dict[str, list[Point]] = defaultdict(list)
        for row in rows:
            per_locality[row.locality_code].append(to_point(row, granularity))
        grouped[code] = dict(per_locality)
    return grouped
