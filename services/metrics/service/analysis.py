"""Use cases of the analysis: series, analysis, comparison, scorecard and status announcements."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import events, repository
from services.metrics.areas import Area
from services.metrics.domain import Direction, Granularity, Source, Unit, analysis
from services.metrics.domain.as_of import in_force
from services.metrics.models import (
    DEFINITION_FIELDS,
    Indicator,
    IndicatorDefinition,
    IndicatorStatus,
)
from services.metrics.models import Target as TargetRow
from services.metrics.service import derived
from shared.clock import system_clock
from shared.problems import NotFound

SeriesMap = dict[tuple[str, str], list[analysis.Point]]


def profile_of(indicator: Indicator) -> analysis.IndicatorProfile:
    return analysis.IndicatorProfile(
        unit=Unit(indicator.unit),
        direction=Direction(indicator.desired_direction),
        source=Source(indicator.source),
        no_change_tolerance=indicator.no_change_tolerance,
    )


def target_for(indicator: Indicator, row: TargetRow | None) -> analysis.Target | None:
    """The action plan's target when one is set, else the indicator's own, else none."""
    if row is not None:
        return analysis.Target(
            row.target_value,
            row.amber_tolerance,
            "actionplans",
            row.target_id,
            baseline_value=row.baseline_value,
            starts_on=row.baseline_on or row.set_at.date(),
            ends_on=row.target_date,
            version=row.version,
            set_on=row.set_at.date(),
        )
    if indicator.target_value is not None:
        return analysis.Target(indicator.target_value, indicator.amber_tolerance or 0, "indicator")
    return None


def as_defined(indicator: Indicator, definition: IndicatorDefinition) -> Indicator:
    """The indicator as that definition had it: a detached copy, never stored."""
    if definition.valid_from == indicator.updated_at:
        return indicator
    return Indicator(
        code=indicator.code,
        created_at=indicator.created_at,
        updated_at=definition.valid_from,
        **{field: getattr(definition, field) for field in DEFINITION_FIELDS},
    )


async def defined_at(
    session: AsyncSession, indicators: Sequence[Indicator], as_of: datetime | None
) -> list[Indicator]:
    """The indicators with the definitions in force at `as_of` (direction, unit, targets), so a
    later edit does not rewrite a past status. Before an indicator's first definition its
    first one is used: the figures of that time are read the way they were first defined."""
    if as_of is None:
        return list(indicators)
    versions = await repository.definitions_of(session, (i.code for i in indicators))
    found = []
    for indicator in indicators:
        kept = versions.get(indicator.code) or []
        definition = in_force(kept, as_of, since=lambda d: d.valid_from) or next(iter(kept), None)
        found.append(indicator if definition is None else as_defined(indicator, definition))
    return found


def point_from_row(row: Any) -> analysis.Point:
    """A point from an observation row (entity or selected columns)."""
    return analysis.Point(
        period_start=row.period_start,
        period_end=row.period_end,
        period_label=row.period_label,
        value=row.value,
        sample_size=row.sample_size,
        numerator=row.numerator,
        denominator=row.denominator,
    )


async def load_series(
    session: AsyncSession,
    indicators: Sequence[Indicator],
    area_codes: Sequence[str],
    as_of: datetime | None = None,
    *,
    ends_only: bool = False,
) -> SeriesMap:
    """Series per (indicator, area): stored observations, and monthly derived values from facts,
    both as known at `as_of` (observations by recording time, facts by event time).

    With `ends_only`, a stored series holds only its first, previous and latest values.
    """
    recorded = [i.code for i in indicators if i.source != Source.DERIVED]
    wanted_derived = {i.code for i in indicators if i.source == Source.DERIVED}
    series: SeriesMap = {}
    if recorded:
        read = repository.series_ends if ends_only else repository.series_for_areas
        rows = await read(session, area_codes=area_codes, indicator_codes=recorded, as_of=as_of)
        for row in rows:
            series.setdefault((row.indicator_code, row.area_code), []).append(point_from_row(row))
    wanted_derived &= set(derived.CALCULATIONS)
    if len(wanted_derived) == len(derived.CALCULATIONS):
        computed = await derived.rebuild_all(session, Granularity.MONTH, list(area_codes), as_of)
    else:
        computed = {
            code: await derived.derived_series(
                session, code, Granularity.MONTH, list(area_codes), as_of
            )
            for code in sorted(wanted_derived)
        }
    for code in wanted_derived:
        for area_code, points in computed[code].items():
            series[(code, area_code)] = points
    return series


async def _indicator(session: AsyncSession, code: str) -> Indicator:
    indicator = await repository.get_indicator(session, code)
    if indicator is None:
        raise NotFound(f"No indicator '{code}'.", field="indicator_code")
    return indicator


def _latest(series: SeriesMap, indicator_code: str, area_code: str) -> analysis.Point | None:
    points = series.get((indicator_code, area_code))
    return points[-1] if points else None


def _area(areas: dict[str, Area], code: str) -> Area:
    if code not in areas:
        raise NotFound(f"No area '{code}'.", field="area")
    return areas[code]


@dataclass(frozen=True)
class IndicatorAnalysis:
    """One indicator for one area: its series and what the analysis makes of it."""

    indicator: Indicator
    area_code: str
    as_of: datetime | None
    target: analysis.Target | None
    series: list[analysis.Point]
    result: analysis.Assessment | None


@dataclass(frozen=True)
class AreaComparison:
    area: Area
    latest: analysis.Point | None
    result: analysis.Assessment | None
    difference: analysis.Status | None  # against the first area's latest value
    difference_absolute: float | None


@dataclass(frozen=True)
class ScorecardLine:
    indicator: Indicator
    target: analysis.Target | None
    result: analysis.Assessment | None
    comparison: dict[str, float | None]  # comparison area -> its latest value


@dataclass(frozen=True)
class LocalityScorecard:
    locality: Area
    as_of: datetime | None
    lines: list[ScorecardLine]


async def analyse(
    session: AsyncSession,
    *,
    indicator_code: str,
    area_code: str,
    areas: dict[str, Area],
    as_of: datetime | None,
) -> IndicatorAnalysis:
    """Latest value, changes, status and RAG of one indicator for one area, with its series."""
    _area(areas, area_code)
    async with session.begin():
        [indicator] = await defined_at(session, [await _indicator(session, indicator_code)], as_of)
        series = (await load_series(session, [indicator], [area_code], as_of)).get(
            (indicator.code, area_code), []
        )
        targets = await repository.latest_targets(
            session, area_codes=[area_code], indicator_codes=[indicator.code], as_of=as_of
        )
    target = target_for(indicator, targets.get((indicator.code, area_code)))
    result = analysis.assess_series(profile_of(indicator), series, target)
    return IndicatorAnalysis(indicator, area_code, as_of, target, series, result)


async def compare(
    session: AsyncSession,
    *,
    indicator_code: str,
    area_codes: Sequence[str],
    areas: dict[str, Area],
    as_of: datetime | None,
) -> tuple[Indicator, list[AreaComparison]]:
    """Each area's latest value and trend, and its difference from the first area's latest."""
    for code in area_codes:
        _area(areas, code)
    async with session.begin():
        [indicator] = await defined_at(session, [await _indicator(session, indicator_code)], as_of)
        series = await load_series(session, [indicator], area_codes, as_of)
    profile = profile_of(indicator)
    reference = _latest(series, indicator.code, area_codes[0])
    items = []
    for code in area_codes:
        points = series.get((indicator.code, code), [])
        latest = points[-1] if points else None
        difference = (
            analysis.assess_status(profile, reference, latest)
            if reference and latest and code != area_codes[0]
            else None
        )
        items.append(
            AreaComparison(
                area=areas[code],
                latest=latest,
                result=analysis.assess_series(profile, points, None),
                difference=difference,
                difference_absolute=latest.value - reference.value
                if latest and reference and difference
                else None,
            )
        )
    return indicator, items


async def scorecard(
    session: AsyncSession, *, locality_code: str, areas: dict[str, Area], as_of: datetime | None
) -> LocalityScorecard:
    """Every indicator for a locality: latest, baseline, change, status, RAG, comparisons."""
    locality = _area(areas, locality_code)
    if locality.kind != "locality":
        raise NotFound(f"'{locality_code}' is not a locality.", field="code")
    area_codes = [locality.code, *locality.comparison_area_codes]
    async with session.begin():
        indicators = await defined_at(
            session, await repository.list_indicators(session, after=None, limit=10_000), as_of
        )
        series = await load_series(session, indicators, area_codes, as_of, ends_only=True)
        targets = await repository.latest_targets(
            session, area_codes=[locality.code], indicator_codes=None, as_of=as_of
        )
    lines = []
    for indicator in indicators:
        target = target_for(indicator, targets.get((indicator.code, locality.code)))
        points = series.get((indicator.code, locality.code), [])
        comparison = {
            code: point.value if (point := _latest(series, indicator.code, code)) else None
            for code in locality.comparison_area_codes
        }
        result = analysis.assess_series(profile_of(indicator), points, target)
        lines.append(ScorecardLine(indicator, target, result, comparison))
    return LocalityScorecard(locality, as_of, lines)


async def announce_derived_changes(
    session: AsyncSession, locality_code: str, indicator_codes: Sequence[str]
) -> int:
    """After a fact changed: re-check the derived indicators someone watches for the locality.

    Watched means a target was set on it or a status was announced; the others are computed
    when asked for, so an event for an unwatched indicator costs two indexed look-ups.
    """
    watched = await repository.watched_pairs(
        session, area_code=locality_code, indicator_codes=indicator_codes
    )
    if not watched:
        return 0
    await session.flush()  # the aggregates must see the fact the handler just changed
    return await announce_status_changes(session, watched)


async def announce_status_changes(session: AsyncSession, pairs: Iterable[tuple[str, str]]) -> int:
    """Recompute status and RAG for (indicator, area) pairs; stage an event for each flip."""
    wanted = sorted(set(pairs))
    if not wanted:
        return 0
    indicators = await repository.indicators_by_code(session, {code for code, _ in wanted})
    area_codes = sorted({area for _, area in wanted})
    series = await load_series(session, list(indicators.values()), area_codes, ends_only=True)
    targets = await repository.latest_targets(
        session, area_codes=area_codes, indicator_codes=list(indicators)
    )
    announced = await repository.announced_statuses(session, wanted)
    # Also run by the consumer, which has no request: the announcement is made now.
    now, flips = system_clock(), 0
    for code, area in wanted:
        indicator = indicators.get(code)
        points = series.get((code, area), [])
        if indicator is None or not points:
            continue
        target = target_for(indicator, targets.get((code, area)))
        result = analysis.assess_series(profile_of(indicator), points, target)
        assert result is not None
        before = announced.get((code, area))
        if before and before.status == result.status.status and before.rag == result.rag:
            continue
        events.stage_status_changed(session, indicator, area, result, before, now)
        flips += 1
        if before is None:
            session.add(
                IndicatorStatus(
                    indicator_code=code,
                    area_code=area,
                    status=result.status.status,
                    rag=result.rag,
                    period_label=result.latest.period_label,
                    changed_at=now,
                )
            )
        else:
            before.status, before.rag = result.status.status, result.rag
            before.period_label, before.changed_at = result.latest.period_label, now
    return flips
