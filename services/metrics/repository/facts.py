"""Facts from the referrals and actionplans events, and the SQL that aggregates them.

Every derived indicator is one GROUP BY over a fact table, bucketed by week, month or quarter
in the database. The bucket expressions differ per engine (SQLite strftime/date, PostgreSQL
date_trunc); both yield the period's first day as 'YYYY-MM-DD' text, in UTC.

The median days to resolution uses window functions available on both engines: rows are
numbered within their (locality, period) by resolution time and the middle one or two are
averaged; PostgreSQL's percentile_cont would do the same but SQLite has no equivalent.

`as_of` is answered by event time: a referral received after it is not counted, and one
triaged, resolved or gone overdue after it counts as not yet triaged, resolved or overdue.
A fact keeps only its latest moments, so a referral resolved before `as_of`, reopened and
resolved again after it counts as unresolved then.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain import Granularity
from services.metrics.models import ActionFact, ReferralFact, ReferralFactCategory
from shared.db import dialect_name

SEE_AND_SOLVE, MULTI_AGENCY = "see_and_solve", "multi_agency"


@dataclass(frozen=True, slots=True)
class DerivedRow:
    locality_code: str
    period_start: date
    value: float
    numerator: float | None = None
    denominator: float | None = None


def period_bucket(column: ColumnElement[datetime], granularity: Granularity, dialect: str) -> Any:
    """SQL expression: the first day of the period holding `column`, as 'YYYY-MM-DD' (UTC)."""
    if dialect == "sqlite":
        # SQLAlchemy stores SQLite datetimes as ISO text ('2026-03-02 09:00:00.000000', UTC
        # here), so months and quarters are cheap substrings; only weeks need date arithmetic.
        if granularity is Granularity.WEEK:
            return func.date(column, "weekday 0", "-6 days")  # the Monday of its week
        if granularity is Granularity.MONTH:
            return func.substr(column, 1, 8) + "01"
        month = func.substr(column, 6, 2)  # zero-padded, so text comparison orders months
        first_month = case(
            (month <= "03", "01"), (month <= "06", "04"), (month <= "09", "07"), else_="10"
        )
        return func.substr(column, 1, 5) + first_month + "-01"
    field = {Granularity.WEEK: "week", Granularity.MONTH: "month", Granularity.QUARTER: "quarter"}
    utc = func.timezone("UTC", column)
    return func.to_char(func.date_trunc(field[granularity], utc), "YYYY-MM-DD")


def _rows(result: Sequence[Any]) -> list[DerivedRow]:
    return [
        DerivedRow(
            locality_code=row[0],
            period_start=date.fromisoformat(row[1]),
            value=float(row[2]),
            numerator=None if len(row) < 4 or row[3] is None else float(row[3]),
            denominator=None if len(row) < 5 or row[4] is None else float(row[4]),
        )
        for row in result
    ]


def known_at(as_of: datetime | None, *moments: Any) -> list[Any]:
    """Conditions: each moment had happened by `as_of` (nothing when `as_of` is None)."""
    if as_of is None:
        return []
    return [moment <= as_of for moment in moments]


def _bucket(session: AsyncSession, column: Any, granularity: Granularity) -> Any:
    return period_bucket(column, granularity, dialect_name(session)).label("period")


async def _grouped(
    session: AsyncSession, query: Any, locality: Any, bucket: Any, localities: Sequence[str] | None
) -> list[DerivedRow]:
    if localities:
        query = query.where(locality.in_(localities))
    query = query.group_by(locality, bucket).order_by(locality, bucket)
    return _rows((await session.execute(query)).all())


async def referrals_received(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Referrals received per locality and period."""
    bucket = _bucket(session, ReferralFact.received_at, granularity)
    query = select(ReferralFact.locality_code, bucket, func.count()).where(
        *known_at(as_of, ReferralFact.received_at)
    )
    return await _grouped(session, query, ReferralFact.locality_code, bucket, localities)


async def triage_shares(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> tuple[list[DerivedRow], list[DerivedRow]]:
    """Percent triaged see-and-solve and multi-agency (of those two tracks), by triage date."""
    bucket = _bucket(session, ReferralFact.triaged_at, granularity)
    see_and_solve = func.sum(case((ReferralFact.track == SEE_AND_SOLVE, 1), else_=0))
    multi_agency = func.sum(case((ReferralFact.track == MULTI_AGENCY, 1), else_=0))
    total = func.count()
    query = select(
        ReferralFact.locality_code,
        bucket,
        100.0 * see_and_solve / total,
        see_and_solve,
        total,
        100.0 * multi_agency / total,
        multi_agency,
    ).where(
        ReferralFact.track.in_((SEE_AND_SOLVE, MULTI_AGENCY)),
        ReferralFact.triaged_at.is_not(None),
        *known_at(as_of, ReferralFact.received_at, ReferralFact.triaged_at),
    )
    if localities:
        query = query.where(ReferralFact.locality_code.in_(localities))
    query = query.group_by(ReferralFact.locality_code, bucket).order_by(
        ReferralFact.locality_code, bucket
    )
    rows = (await session.execute(query)).all()
    shares = _rows([row[:5] for row in rows])
    multi = _rows([(r[0], r[1], r[5], r[6], r[4]) for r in rows])
    return shares, multi


async def see_and_solve_within_day(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Percent of see-and-solve referrals resolved within the day, by resolution date."""
    bucket = _bucket(session, ReferralFact.resolved_at, granularity)
    within = func.sum(case((ReferralFact.within_due.is_(True), 1), else_=0))
    query = select(
        ReferralFact.locality_code, bucket, 100.0 * within / func.count(), within, func.count()
    ).where(
        ReferralFact.track == SEE_AND_SOLVE,
        ReferralFact.resolved_at.is_not(None),
        ReferralFact.within_due.is_not(None),
        *known_at(as_of, ReferralFact.received_at, ReferralFact.resolved_at),
    )
    return await _grouped(session, query, ReferralFact.locality_code, bucket, localities)


async def median_days_to_resolution(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Median days from receipt to resolution, by resolution date (window functions)."""
    bucket = _bucket(session, ReferralFact.resolved_at, granularity)
    partition = (ReferralFact.locality_code, bucket)
    ranked = select(
        ReferralFact.locality_code.label("locality_code"),
        bucket,
        ReferralFact.resolution_days.label("days"),
        func.row_number()
        .over(partition_by=partition, order_by=ReferralFact.resolution_days)
        .label("position"),
        func.count().over(partition_by=partition).label("size"),
    ).where(
        ReferralFact.resolution_days.is_not(None),
        ReferralFact.resolved_at.is_not(None),
        *known_at(as_of, ReferralFact.received_at, ReferralFact.resolved_at),
    )
    if localities:
        ranked = ranked.where(ReferralFact.locality_code.in_(localities))
    ranked_rows = ranked.subquery()
    position, size = ranked_rows.c.position, ranked_rows.c.size
    # The middle row (odd size) or the two middle rows (even size): 2p in [n, n + 2].
    query = (
        select(ranked_rows.c.locality_code, ranked_rows.c.period, func.avg(ranked_rows.c.days))
        .where(position * 2 >= size, position * 2 <= size + 2)
        .group_by(ranked_rows.c.locality_code, ranked_rows.c.period)
        .order_by(ranked_rows.c.locality_code, ranked_rows.c.period)
    )
    return _rows((await session.execute(query)).all())


async def overdue_referrals(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Referrals that went overdue per locality and period."""
    bucket = _bucket(session, ReferralFact.overdue_at, granularity)
    query = select(ReferralFact.locality_code, bucket, func.count()).where(
        ReferralFact.overdue_at.is_not(None),
        *known_at(as_of, ReferralFact.received_at, ReferralFact.overdue_at),
    )
    return await _grouped(session, query, ReferralFact.locality_code, bucket, localities)


async def overdue_actions(
    session: AsyncSession,
    granularity: Granularity,
    localities: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Action plan actions that went overdue per locality and period."""
    bucket = _bucket(session, ActionFact.overdue_at, granularity)
    query = select(ActionFact.locality_code, bucket, func.count()).where(
        ActionFact.overdue_at.is_not(None), *known_at(as_of, ActionFact.overdue_at)
    )
    return await _grouped(session, query, ActionFact.locality_code, bucket, localities)


async def referral_totals(
    session: AsyncSession, locality_code: str | None, as_of: datetime | None = None
) -> list[tuple[str, int]]:
    """Referrals received per locality, all time (up to `as_of`)."""
    query = (
        select(ReferralFact.locality_code, func.count())
        .where(*known_at(as_of, ReferralFact.received_at))
        .group_by(ReferralFact.locality_code)
    )
    if locality_code:
        query = query.where(ReferralFact.locality_code == locality_code)
    rows = await session.execute(query.order_by(ReferralFact.locality_code))
    return [(code, count) for code, count in rows.all()]


async def get_referral_fact(session: AsyncSession, referral_id: str) -> ReferralFact | None:
    return await session.get(ReferralFact, referral_id)


async def referral_categories_by_id(
    session: AsyncSession, referral_ids: Sequence[str]
) -> dict[str, dict[str, ReferralFactCategory]]:
    """The category rows of those referrals, by referral id and category code, in one query."""
    found: dict[str, dict[str, ReferralFactCategory]] = {r: {} for r in referral_ids}
    if not referral_ids:
        return found
    rows = await session.scalars(
        select(ReferralFactCategory).where(ReferralFactCategory.referral_id.in_(referral_ids))
    )
    for row in rows:
        found[row.referral_id][row.category_code] = row
    return found


async def get_action_fact(session: AsyncSession, action_id: str) -> ActionFact | None:
    return await session.get(ActionFact, action_id)


async def referral_facts_by_id(
    session: AsyncSession, referral_ids: Sequence[str]
) -> dict[str, ReferralFact]:
    """The facts of those referrals that have one, in one query (a consumer batch's prefetch)."""
    if not referral_ids:
        return {}
    rows = await session.scalars(
        select(ReferralFact).where(ReferralFact.referral_id.in_(referral_ids))
    )
    return {fact.referral_id: fact for fact in rows}


async def action_facts_by_id(
    session: AsyncSession, action_ids: Sequence[str]
) -> dict[str, ActionFact]:
    """The facts of those actions that have one, in one query (a consumer batch's prefetch)."""
    if not action_ids:
        return {}
    rows = await session.scalars(select(ActionFact).where(ActionFact.action_id.in_(action_ids)))
    return {fact.action_id: fact for fact in rows}
