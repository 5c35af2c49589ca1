"""Use case of the committee report: everything the paper shows, read in one transaction.

The report lives in the metrics service because the figures it reads (indicators,
observations, targets set by action plans, referral facts, plans and their reviews from the
actionplans events) are all here already; it renders what this service knows and nothing more.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.areas import Area
from services.metrics.domain import analysis
from services.metrics.models import Indicator, PlanFact, PlanReviewFact, Target
from services.metrics.repository import plans as plan_facts
from services.metrics.service.analysis import (
    SeriesMap,
    defined_at,
    load_series,
    profile_of,
    target_for,
)
from services.metrics.service.flow import AreaFlow, Period, area_of, localities_of, read_flow


@dataclass(frozen=True)
class IndicatorReport:
    """One indicator's full series for the area, its target and what the analysis says."""

    indicator: Indicator
    series: list[analysis.Point]
    target: analysis.Target | None
    result: analysis.Assessment
    previous_rag: str | None  # the RAG the previous value had: "turned red" needs both


@dataclass(frozen=True)
class PlanTargetReport:
    """A plan's target: as frozen at the plan's last review, and as its indicator stands now."""

    target: Target
    indicator: Indicator | None
    reviewed: dict[str, Any] | None  # the review's frozen row for this target
    latest: analysis.Point | None
    rag_now: str | None


@dataclass(frozen=True)
class PlanReport:
    plan: PlanFact
    locality: Area
    status: str | None
    review: PlanReviewFact | None
    targets: list[PlanTargetReport]


@dataclass(frozen=True)
class Report:
    area: Area
    as_of: datetime | None
    generated_at: datetime
    indicators: list[IndicatorReport]
    flow: AreaFlow
    plans: list[PlanReport]


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
    localities = localities_of(area, areas)
    async with session.begin():
        indicators = await defined_at(
            session, await repository.list_indicators(session, after=None, limit=10_000), as_of
        )
        plans = await plan_facts.plans_of_localities(session, [a.code for a in localities], as_of)
        plan_ids = [p.plan_id for p in plans]
        statuses = await plan_facts.statuses_at(session, plan_ids, as_of)
        reviews = await plan_facts.last_reviews(session, plan_ids, as_of)
        plan_targets = await plan_facts.targets_of_plans(session, plan_ids, as_of)
        area_codes = sorted({area.code, *(t.area_code for t in plan_targets)})
        series = await load_series(session, indicators, area_codes, as_of)
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
    by_code = {a.code: a for a in localities}
    plan_reports = [
        PlanReport(
            plan,
            by_code[plan.locality_code],
            statuses.get(plan.plan_id),
            reviews.get(plan.plan_id),
            _plan_targets(
                [t for t in plan_targets if t.plan_id == plan.plan_id],
                reviews.get(plan.plan_id),
                indicators,
                series,
            ),
        )
        for plan in plans
    ]
    return Report(area, as_of, now, sections, flow, plan_reports)


def _plan_targets(
    targets: Sequence[Target],
    review: PlanReviewFact | None,
    indicators: Sequence[Indicator],
    series: SeriesMap,
) -> list[PlanTargetReport]:
    """Each target with its RAG at the review and now (the report's own RAG rule)."""
    by_code = {i.code: i for i in indicators}
    frozen = {row["target_id"]: row for row in (review.targets if review else [])}
    found = []
    for row in targets:
        indicator = by_code.get(row.indicator_code)
        points = series.get((row.indicator_code, row.area_code), [])
        result = (
            analysis.assess_series(profile_of(indicator), points, target_for(indicator, row))
            if indicator is not None
            else None
        )
        found.append(
            PlanTargetReport(
                target=row,
                indicator=indicator,
                reviewed=frozen.get(row.target_id),
                latest=result.latest if result else None,
                rag_now=result.rag if result else None,
            )
        )
    return found
