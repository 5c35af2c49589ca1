"""Use case of the committee report: everything the paper shows, read in one transaction.

The report lives in the metrics service because the figures it reads (indicators,
observations, targets set by action plans, referral facts) are all here already; it renders
what this service knows and nothing more.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.areas import Area
from services.metrics.domain import analysis
from services.metrics.models import Indicator
from services.metrics.service.analysis import defined_at, load_series, profile_of, target_for
from services.metrics.service.flow import AreaFlow, Period, area_of, read_flow


@dataclass(frozen=True)
class IndicatorReport:
    """One indicator's full series for the area, its target and what the analysis says."""

    indicator: Indicator
    series: list[analysis.Point]
    target: analysis.Target | None
    result: analysis.Assessment
    previous_rag: str | None  # the RAG the previous value had: "turned red" needs both


@dataclass(frozen=True)
class Report:
    area: Area
    as_of: datetime | None
    generated_at: datetime
    indicators: list[IndicatorReport]
    flow: AreaFlow


async def build_report(
    session: AsyncSession,
    *,
    area_code: str,
    kind: str,
    areas: dict[str, Area],
    period: Period,
    as_of: datetime | None,
    now: datetime,
) -> Report:
    """The report's figures for a locality or an authority, as known at `as_of`."""
    area = area_of(areas, area_code, kind)
    async with session.begin():
        indicators = await defined_at(
            session, await repository.list_indicators(session, after=None, limit=10_000), as_of
        )
        series = await load_series(session, indicators, [area.code], as_of)
        targets = await repository.latest_targets(
            session, area_codes=[area.code], indicator_codes=None, as_of=as_of
        )
        flow = await read_flow(
            session, area=area, areas=areas, period=period, channel=None, as_of=as_of
        )
    sections = []
    for indicator in indicators:
        points = series.get((indicator.code, area.code), [])
        target = target_for(indicator, targets.get((indicator.code, area.code)))
        profile = profile_of(indicator)
        result = analysis.assess_series(profile, points, target)
        if result is None:
            continue
        previous_rag = (
            analysis.rag_against(profile.direction, result.previous, target)
            if target and result.previous
            else None
        )
        sections.append(IndicatorReport(indicator, points, target, result, previous_rag))
    return Report(area, as_of, now, sections, flow)
