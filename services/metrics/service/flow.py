"""Use cases of the referral flow: one area's flow over a period, and two periods compared.

An authority's flow is the sum of its localities' (each locality is also listed), so the
authority-wide totals and shares always equal what the localities add up to.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.areas import Area
from services.metrics.domain import statistics
from services.metrics.domain.flow import ReferralFlow, combine
from services.metrics.repository import flow as flow_repository
from shared.contracts.referrals import CHANNELS
from shared.problems import NotFound, Unprocessable

DEFAULT_PERIOD_DAYS = 84  # twelve weeks, about the "first 11 weeks" a committee reads


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, both ends included."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def bounds(self, as_of: datetime | None) -> tuple[datetime, datetime]:
        """[start, end) in UTC; nothing after the as-at time is known."""
        start = datetime.combine(self.first_day, time.min, tzinfo=UTC)
        end = datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)
        return start, min(end, as_of) if as_of else end


@dataclass(frozen=True)
class AreaFlow:
    area: Area
    period: Period
    channel: str | None
    total: ReferralFlow
    localities: list[tuple[Area, ReferralFlow]]


@dataclass(frozen=True)
class FlowComparison:
    before: AreaFlow
    after: AreaFlow
    received_per_day: statistics.PeriodChange
    see_and_solve_share: statistics.PeriodChange
    within_day_share: statistics.PeriodChange


def period_of(
    first_day: date | None, last_day: date | None, today: date, *, field: str = "from"
) -> Period:
    """The period asked for; `to` defaults to today (or the as-at day), `from` 12 weeks back."""
    last = last_day or today
    first = first_day or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        raise Unprocessable(f"'{field}' {first} is after the period's end {last}.", field=field)
    return Period(first, last)


def area_of(areas: dict[str, Area], code: str, kind: str | None = None) -> Area:
    """The area, or 404 naming it (also when it is not of the kind the route serves)."""
    area = areas.get(code)
    if area is None or (kind is not None and area.kind != kind):
        raise NotFound(f"No {kind or 'area'} '{code}'.", field="code")
    return area


def localities_of(area: Area, areas: dict[str, Area]) -> list[Area]:
    """A locality itself, or an authority's localities in code order."""
    if area.kind == "locality":
        return [area]
    return sorted(
        (a for a in areas.values() if a.kind == "locality" and a.authority_code == area.code),
        key=lambda a: a.code,
    )


def check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNELS:
        raise Unprocessable(
            f"Unknown channel '{channel}'; use one of {', '.join(CHANNELS)}.", field="channel"
        )


async def read_flow(
    session: AsyncSession,
    *,
    area: Area,
    areas: dict[str, Area],
    period: Period,
    channel: str | None,
    as_of: datetime | None,
) -> AreaFlow:
    """The flow of an area in a period, within the caller's transaction."""
    members = localities_of(area, areas)
    start, end = period.bounds(as_of)
    per_locality = await flow_repository.referral_flow(
        session, locality_codes=[a.code for a in members], start=start, end=end, channel=channel
    )
    parts = [(member, per_locality[member.code]) for member in members]
    total = combine(area.code, (part for _, part in parts))
    return AreaFlow(area, period, channel, total, parts)


async def referral_flow(
    session: AsyncSession,
    *,
    area_code: str,
    areas: dict[str, Area],
    period: Period,
    channel: str | None,
    as_of: datetime | None,
) -> AreaFlow:
    """Received by channel, triage shares, within-the-day share, overdue, median days."""
    area = area_of(areas, area_code)
    check_channel(channel)
    async with session.begin():
        return await read_flow(
            session, area=area, areas=areas, period=period, channel=channel, as_of=as_of
        )


def compare(before: AreaFlow, after: AreaFlow) -> FlowComparison:
    """The change between two periods' flows and whether chance explains it."""
    b, a = before.total, after.total
    return FlowComparison(
        before=before,
        after=after,
        received_per_day=statistics.poisson_rate_test(
            b.received, before.period.days, a.received, after.period.days
        ),
        see_and_solve_share=statistics.two_proportion_test(
            b.see_and_solve,
            b.see_and_solve + b.multi_agency,
            a.see_and_solve,
            a.see_and_solve + a.multi_agency,
        ),
        within_day_share=statistics.two_proportion_test(
            b.see_and_solve_within_day,
            b.see_and_solve_resolved,
            a.see_and_solve_within_day,
            a.see_and_solve_resolved,
        ),
    )


async def compare_periods(
    session: AsyncSession,
    *,
    area_code: str,
    areas: dict[str, Area],
    before: Period,
    after: Period,
    channel: str | None,
    as_of: datetime | None,
) -> FlowComparison:
    """Two periods of one area's flow (before and after a campaign, say), compared."""
    area = area_of(areas, area_code)
    check_channel(channel)
    async with session.begin():
        flows = [
            await read_flow(session, area=area, areas=areas, period=p, channel=channel, as_of=as_of)
            for p in (before, after)
        ]
    return compare(*flows)
