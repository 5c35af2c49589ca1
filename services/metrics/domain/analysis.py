"""Pure maths of the analysis: change, direction-aware status with confidence intervals, RAG.

Status compares two points of a series (baseline -> latest, or previous -> latest):
- survey percentages with a sample size on both points: a 95% confidence interval on the
  difference of two proportions (unpooled normal approximation); a change is clear only when
  the interval excludes zero;
- counts of incidents (police, council, derived): the two counts are treated as Poisson, so
  the difference b - a has variance a + b; again clear only when the 95% interval excludes zero;
- anything else (and surveys without sample sizes): a relative change beyond the indicator's
  tolerance (default 5%) is clear.
"""

import math
from dataclasses import dataclass
from datetime import date

from services.metrics.domain import DEFAULT_NO_CHANGE_TOLERANCE, Direction, Source, Unit
from shared.rag import Trajectory

Z_95 = 1.959963984540054

IMPROVING, WORSENING, NO_CLEAR_CHANGE = "improving", "worsening", "no_clear_change"


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a series."""

    period_start: date
    period_end: date
    period_label: str
    value: float
    sample_size: int | None = None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True, slots=True)
class Change:
    absolute: float
    relative: float | None  # None when the earlier value is zero


@dataclass(frozen=True, slots=True)
class Status:
    status: str
    method: str  # "two_proportion_ci" | "poisson_ci" | "relative_tolerance"
    ci_low: float | None = None  # 95% interval on the difference later - earlier
    ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What the value should reach; from an action plan's SMART target or the indicator.

    A plan's target runs from its baseline (`baseline_value` on `starts_on`) to the target value
    on `ends_on`; an indicator's own target has no baseline and is rated against its value.
    """

    target_value: float
    amber_tolerance: float
    source: str  # "actionplans" | "indicator"
    target_id: str | None = None
    baseline_value: float | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    version: int | None = None  # of a plan's target: the version in force
    set_on: date | None = None

    def trajectory(self, direction: Direction) -> Trajectory:
        if self.baseline_value is None or self.starts_on is None or self.ends_on is None:
            return Trajectory.flat(direction, self.target_value, self.amber_tolerance)
        return Trajectory(
            direction=direction,
            baseline_value=self.baseline_value,
            target_value=self.target_value,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            amber_tolerance=self.amber_tolerance,
        )


@dataclass(frozen=True, slots=True)
class IndicatorProfile:
    """What the maths needs to know about an indicator."""

    unit: Unit
    direction: Direction
    source: Source
    no_change_tolerance: float = DEFAULT_NO_CHANGE_TOLERANCE


def change_between(earlier: float, later: float) -> Change:
    """Absolute and relative change from `earlier` to `later`."""
    relative = None if earlier == 0 else (later - earlier) / abs(earlier)
    # Rounded so that 68.65 - 31.18 reads 37.47, not 37.470000000000006.
    return Change(absolute=round(later - earlier, 9), relative=relative)


def proportion_difference_interval(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """95% interval on p2 - p1 for two independent sample proportions (in 0..1)."""
    standard_error = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    difference = p2 - p1
    return difference - Z_95 * standard_error, difference + Z_95 * standard_error


def count_difference_interval(a: float, b: float) -> tuple[float, float]:
    """95% interval on b - a for two independent Poisson counts."""
    standard_error = math.sqrt(a + b)
    return (b - a) - Z_95 * standard_error, (b - a) + Z_95 * standard_error


def _directional(direction: Direction, sign: int) -> str:
    if sign == 0:
        return NO_CLEAR_CHANGE
    good = sign > 0 if direction is Direction.UP else sign < 0
    return IMPROVING if good else WORSENING


def _interval_sign(low: float, high: float) -> int:
    if low > 0:
        return 1
    if high < 0:
        return -1
    return 0


def assess_status(profile: IndicatorProfile, earlier: Point, later: Point) -> Status:
    """Is the move from `earlier` to `later` a clear improvement, a clear worsening, or neither?"""
    if (
        profile.unit is Unit.PERCENT
        and profile.source is Source.SURVEY
        and earlier.sample_size
        and later.sample_size
    ):
        low, high = proportion_difference_interval(
            earlier.value / 100, earlier.sample_size, later.value / 100, later.sample_size
        )
        low, high = low * 100, high * 100  # back to percentage points
        sign = _interval_sign(low, high)
        return Status(_directional(profile.direction, sign), "two_proportion_ci", low, high)
    if profile.unit is Unit.COUNT and profile.source is not Source.SURVEY:
        low, high = count_difference_interval(earlier.value, later.value)
        sign = _interval_sign(low, high)
        return Status(_directional(profile.direction, sign), "poisson_ci", low, high)
    change = change_between(earlier.value, later.value)
    if change.relative is None:
        sign = (change.absolute > 0) - (change.absolute < 0)
    elif abs(change.relative) <= profile.no_change_tolerance:
        sign = 0
    else:
        sign = 1 if change.relative > 0 else -1
    return Status(_directional(profile.direction, sign), "relative_tolerance")


def rag_against(direction: Direction, latest: Point, target: Target) -> str:
    """The shared RAG rule (shared/rag.py): the latest value against where the target's
    trajectory is at the end of that value's period, as the action plan rates it."""
    return target.trajectory(direction).rag(latest.value, latest.period_end).value


@dataclass(frozen=True, slots=True)
class Assessment:
    """Where an indicator stands for an area and which way it is moving."""

    latest: Point
    baseline: Point
    previous: Point | None
    change_since_baseline: Change
    change_since_previous: Change | None
    status: Status  # baseline -> latest
    status_since_previous: Status | None
    rag: str | None
    target: Target | None


def assess_series(
    profile: IndicatorProfile, series: list[Point], target: Target | None
) -> Assessment | None:
    """Analyse a series sorted by period; None when it is empty."""
    if not series:
        return None
    baseline, latest = series[0], series[-1]
    previous = series[-2] if len(series) > 1 else None
    return Assessment(
        latest=latest,
        baseline=baseline,
        previous=previous,
        change_since_baseline=change_between(baseline.value, latest.value),
        change_since_previous=change_between(previous.value, latest.value) if previous else None,
        status=assess_status(profile, baseline, latest),
        status_since_previous=assess_status(profile, previous, latest) if previous else None,
        rag=rag_against(profile.direction, latest, target) if target else None,
        target=target,
    )
