"""Response models of the analysis, comparison and scorecard routes."""

from datetime import date, datetime

from pydantic import BaseModel

from services.metrics.domain import analysis


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
    )
