"""The maths of the analysis: change, confidence intervals, direction-aware status, RAG."""

import math
from datetime import date

import pytest

from services.metrics.domain import Direction, Source, Unit
from services.metrics.domain.analysis import (
    IMPROVING,
    NO_CLEAR_CHANGE,
    WORSENING,
    IndicatorProfile,
    Point,
    Target,
    assess_series,
    assess_status,
    change_between,
    count_difference_interval,
    proportion_difference_interval,
    rag_against,
)
from shared.rag import Rag

AMBER, GREEN, RED = Rag.AMBER, Rag.GREEN, Rag.RED

pytestmark = pytest.mark.unit

SURVEY_UP = IndicatorProfile(Unit.PERCENT, Direction.UP, Source.SURVEY)
SURVEY_DOWN = IndicatorProfile(Unit.PERCENT, Direction.DOWN, Source.SURVEY)
INCIDENTS_DOWN = IndicatorProfile(Unit.COUNT, Direction.DOWN, Source.POLICE)
DAYS_DOWN = IndicatorProfile(Unit.DAYS, Direction.DOWN, Source.DERIVED)


def point(value: float, month: int = 1, sample_size: int | None = None) -> Point:
    start = date(2021, month, 1)
    return Point(start, start, f"2021-{month:02d}", value, sample_size=sample_size)


def test_change_is_absolute_and_relative_to_the_earlier_value() -> None:
    change = change_between(31.18, 68.65)
    assert change.absolute == pytest.approx(37.47)
    assert change.relative == pytest.approx(1.2017, abs=1e-4)
    assert change_between(0, 5).relative is None


def test_proportion_interval_matches_the_textbook_formula() -> None:
    low, high = proportion_difference_interval(0.5, 100, 0.6, 100)
    standard_error = math.sqrt(0.25 / 100 + 0.24 / 100)
    assert (low, high) == pytest.approx(
        (0.1 - 1.96 * standard_error, 0.1 + 1.96 * standard_error), abs=1e-4
    )


def test_count_interval_treats_incidents_as_poisson() -> None:
    low, high = count_difference_interval(523, 172)
    assert (low + high) / 2 == pytest.approx(-351)
    assert high - low == pytest.approx(2 * 1.959964 * math.sqrt(695), rel=1e-6)


def test_survey_rise_with_large_samples_is_a_clear_improvement_when_up_is_good() -> None:
    status = assess_status(SURVEY_UP, point(31.18, 9, 93), point(68.65, 10, 49))
    assert (status.status, status.method) == (IMPROVING, "two_proportion_ci")
    assert status.ci_low > 0


def test_survey_change_within_sampling_error_is_no_clear_change() -> None:
    status = assess_status(SURVEY_UP, point(32.61, 1, 46), point(36.0, 2, 35))
    assert status.status == NO_CLEAR_CHANGE
    assert status.ci_low < 0 < status.ci_high


def test_a_rising_share_calling_crime_a_big_problem_is_worsening() -> None:
    status = assess_status(SURVEY_DOWN, point(40, 1, 400), point(60, 2, 400))
    assert status.status == WORSENING


def test_survey_without_sample_sizes_falls_back_to_the_relative_tolerance() -> None:
    assert assess_status(SURVEY_UP, point(31.18), point(68.65)).method == "relative_tolerance"
    assert assess_status(SURVEY_UP, point(50), point(51)).status == NO_CLEAR_CHANGE
    assert assess_status(SURVEY_DOWN, point(71.74), point(77.14)).status == WORSENING


def test_falling_incident_counts_improve_and_small_moves_are_noise() -> None:
    assert assess_status(INCIDENTS_DOWN, point(523), point(172)).status == IMPROVING
    assert assess_status(INCIDENTS_DOWN, point(151), point(165)).status == NO_CLEAR_CHANGE
    assert assess_status(INCIDENTS_DOWN, point(192), point(247)).status == WORSENING


def test_zero_baseline_moves_count_by_their_sign() -> None:
    assert assess_status(DAYS_DOWN, point(0), point(2)).status == WORSENING
    assert assess_status(DAYS_DOWN, point(0), point(0)).status == NO_CLEAR_CHANGE


def test_an_indicators_own_target_is_green_at_the_target_amber_within_tolerance_red_beyond() -> (
    None
):
    target = Target(target_value=75, amber_tolerance=10, source="indicator")
    assert rag_against(Direction.UP, point(75), target) == GREEN
    assert rag_against(Direction.UP, point(68.65), target) == AMBER
    assert rag_against(Direction.UP, point(60), target) == RED
    down = Target(target_value=200, amber_tolerance=20, source="indicator")
    assert rag_against(Direction.DOWN, point(172), down) == GREEN
    assert rag_against(Direction.DOWN, point(215), down) == AMBER
    assert rag_against(Direction.DOWN, point(260), down) == RED


def test_a_plans_target_is_rated_against_its_trajectory_at_the_end_of_the_values_period() -> None:
    # Newport, feeling safe by day: 31.18% (Sept 2020) to 60% by Sept 2021, 5 points' leeway;
    # the line expects about 45.5% at the end of March 2021.
    target = Target(60.0, 5.0, "actionplans", "t1", 31.18, date(2020, 9, 30), date(2021, 9, 30))
    march = date(2021, 3, 1)
    assert rag_against(Direction.UP, Point(march, date(2021, 3, 31), "M", 46.0), target) == GREEN
    assert rag_against(Direction.UP, Point(march, date(2021, 3, 31), "M", 41.0), target) == AMBER
    assert rag_against(Direction.UP, Point(march, date(2021, 3, 31), "M", 35.49), target) == RED


def test_series_assessment_uses_first_as_baseline_and_penultimate_as_previous() -> None:
    series = [point(31.18, 1), point(35.49, 2), point(68.65, 3)]
    result = assess_series(SURVEY_UP, series, Target(60, 5, "indicator"))
    assert result is not None
    assert (result.baseline.value, result.previous.value, result.latest.value) == (
        31.18,
        35.49,
        68.65,
    )
    assert result.change_since_previous.absolute == pytest.approx(33.16)
    assert (result.status.status, result.rag) == (IMPROVING, GREEN)
    assert assess_series(SURVEY_UP, [], None) is None
    single = assess_series(SURVEY_UP, [point(10)], None)
    assert single.previous is None and single.status.status == NO_CLEAR_CHANGE
