"""Response models of the analysis, comparison and scorecard routes, and how the routes build
them from the use cases' results."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.metrics.domain import analysis
from services.metrics.models import Indicator
from services.metrics.service.analysis import (
    AreaComparison,
    IndicatorAnalysis,
    LocalityScorecard,
    ScorecardLine,
)


class PointOut(BaseModel):
    period_start: date
    period_end: date
    period_label: str
    value: float
    sample_size: int | None = None
    numerator: float | None = None
    denominator: float | None = None


class ChangeOut(BaseModel):
    absolute: float
    relative: float | None


class StatusOut(BaseModel):
    status: str
    method: str
    ci_low: float | None = None
    ci_high: float | None = None


class TargetRef(BaseModel):
    target_value: float
    amber_tolerance: float
    source: str
    target_id: str | None = None
    version: int | None = Field(None, description="of a plan's target: the version in force")
    set_on: date | None = Field(None, description="when that version was set")


class AnalysisOut(BaseModel):
    indicator_code: str
    area_code: str
    unit: str
    desired_direction: str
    as_of: datetime | None = None
    latest: PointOut | None = None
    baseline: PointOut | None = None
    previous: PointOut | None = None
    change_since_baseline: ChangeOut | None = None
    change_since_previous: ChangeOut | None = None
    status: StatusOut | None = None
    status_since_previous: StatusOut | None = None
    rag: str | None = None
    target: TargetRef | None = None
    series: list[PointOut] = []


class ComparisonItem(BaseModel):
    area_code: str
    area_name: str
    latest: PointOut | None
    change_since_baseline: ChangeOut | None
    status: StatusOut | None
    difference_from_first: StatusOut | None  # later = this area, earlier = the first area
    difference_absolute: float | None


class ComparisonOut(BaseModel):
    indicator_code: str
    unit: str
    desired_direction: str
    items: list[ComparisonItem]


class ScorecardRow(BaseModel):
    indicator_code: str
    name: str
    unit: str
    desired_direction: str
    source: str
    latest_period: str | None = None
    latest_value: float | None = None
    baseline_period: str | None = None
    baseline_value: float | None = None
    change_absolute: float | None = None
    change_relative: float | None = None
    previous_value: float | None = None
    change_since_previous_absolute: float | None = None
    status: str | None = None
    status_method: str | None = None
    status_since_previous: str | None = None
    rag: str | None = None
    target_value: float | None = None
    target_source: str | None = None
    comparison: dict[str, float | None] = {}


class Scorecard(BaseModel):
    locality_code: str
    locality_name: str
    as_of: datetime | None = None
    comparison_area_codes: list[str]
    rows: list[ScorecardRow]


class DerivedSeries(BaseModel):
    locality_code: str
    series: list[PointOut]


class DerivedSeriesList(BaseModel):
    indicator_code: str
    granularity: str
    items: list[DerivedSeries]


def point_out(point: analysis.Point | None) -> PointOut | None:
    if point is None:
        return None
    return PointOut(
        period_start=point.period_start,
        period_end=point.period_end,
        period_label=point.period_label,
        value=point.value,
        sample_size=point.sample_size,
        numerator=point.numerator,
        denominator=point.denominator,
    )


def change_out(change: analysis.Change | None) -> ChangeOut | None:
    return None if change is None else ChangeOut(absolute=change.absolute, relative=change.relative)


def status_out(status: analysis.Status | None) -> StatusOut | None:
    if status is None:
        return None
    return StatusOut(
        status=status.status, method=status.method, ci_low=status.ci_low, ci_high=status.ci_high
    )


def target_out(target: analysis.Target | None) -> TargetRef | None:
    if target is None:
        return None
    return TargetRef(
        target_value=target.target_value,
        amber_tolerance=target.amber_tolerance,
        source=target.source,
        target_id=target.target_id,
        version=target.version,
        set_on=target.set_on,
    )


def analysis_out(found: IndicatorAnalysis) -> AnalysisOut:
    indicator, result = found.indicator, found.result
    out = AnalysisOut(
        indicator_code=indicator.code,
        area_code=found.area_code,
        unit=indicator.unit,
        desired_direction=indicator.desired_direction,
        as_of=found.as_of,
        target=target_out(found.target),
        series=[p for p in map(point_out, found.series) if p is not None],
    )
    if result is not None:
        out.latest, out.baseline = point_out(result.latest), point_out(result.baseline)
        out.previous = point_out(result.previous)
        out.change_since_baseline = change_out(result.change_since_baseline)
        out.change_since_previous = change_out(result.change_since_previous)
        out.status = status_out(result.status)
        out.status_since_previous = status_out(result.status_since_previous)
        out.rag = result.rag
    return out


def comparison_out(indicator: Indicator, items: list[AreaComparison]) -> ComparisonOut:
    return ComparisonOut(
        indicator_code=indicator.code,
        unit=indicator.unit,
        desired_direction=indicator.desired_direction,
        items=[
            ComparisonItem(
                area_code=item.area.code,
                area_name=item.area.name,
                latest=point_out(item.latest),
                change_since_baseline=change_out(
                    item.result.change_since_baseline if item.result else None
                ),
                status=status_out(item.result.status if item.result else None),
                difference_from_first=status_out(item.difference),
                difference_absolute=item.difference_absolute,
            )
            for item in items
        ],
    )


def scorecard_out(card: LocalityScorecard) -> Scorecard:
    return Scorecard(
        locality_code=card.locality.code,
        locality_name=card.locality.name,
        as_of=card.as_of,
        comparison_area_codes=list(card.locality.comparison_area_codes),
        rows=[_scorecard_row(line) for line in card.lines],
    )


def _scorecard_row(line: ScorecardLine) -> ScorecardRow:
    indicator, target, result = line.indicator, line.target, line.result
    row = ScorecardRow(
        indicator_code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        desired_direction=indicator.desired_direction,
        source=indicator.source,
        target_value=target.target_value if target else None,
        target_source=target.source if target else None,
        comparison=line.comparison,
    )
    if result is None:
        return row
    row.latest_period, row.latest_value = result.latest.period_label, result.latest.value
    row.baseline_period, row.baseline_value = result.baseline.period_label, result.baseline.value
    row.change_absolute = result.change_since_baseline.absolute
    row.change_relative = result.change_since_baseline.relative
    if result.previous is not None and result.change_since_previous is not None:
        row.previous_value = result.previous.value
        row.change_since_previous_absolute = result.change_since_previous.absolute
    row.status, row.status_method = result.status.status, result.status.method
    if result.status_since_previous is not None:
        row.status_since_previous = result.status_since_previous.status
    row.rag = result.rag
    return row
