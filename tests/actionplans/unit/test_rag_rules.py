"""RAG against a baseline -> target trajectory, in both directions."""

from datetime import date

import pytest

from services.actionplans.domain import (
    Direction,
    ObservationPoint,
    Rag,
    Trajectory,
    supersedes,
    turned_red,
)

pytestmark = pytest.mark.unit

# Newport: 31.18% felt safe by day in Sept 2020; aim for 60% by Sept 2021, 5 points' leeway.
FEEL_SAFE = Trajectory(
    direction=Direction.UP,
    baseline_value=31.18,
    target_value=60.0,
    starts_on=date(2020, 9, 30),
    ends_on=date(2021, 9, 30),
    amber_tolerance=5.0,
)
# Newport ASB: 523 incidents in Q1 2020/21; aim for 250 a quarter by Q4 2021/22.
ASB = Trajectory(
    direction=Direction.DOWN,
    baseline_value=523,
    target_value=250,
    starts_on=date(2020, 6, 30),
    ends_on=date(2022, 3, 31),
    amber_tolerance=25,
)


def test_trajectory_runs_straight_from_baseline_to_target() -> None:
    assert FEEL_SAFE.expected_on(date(2020, 1, 1)) == 31.18
    assert FEEL_SAFE.expected_on(date(2021, 3, 31)) == pytest.approx(45.55, abs=0.05)
    assert FEEL_SAFE.expected_on(date(2023, 1, 1)) == 60.0


@pytest.mark.parametrize(
    ("value", "rag"),
    [
        (46.0, Rag.GREEN),
        (45.56, Rag.GREEN),
        (45.54, Rag.AMBER),
        (41.0, Rag.AMBER),
        (35.49, Rag.RED),
    ],
)
def test_rising_indicator_is_green_on_course_amber_within_tolerance_red_beyond(
    value: float, rag: Rag
) -> None:
    assert FEEL_SAFE.rag(value, date(2021, 3, 31)) == rag


@pytest.mark.parametrize(("value", "rag"), [(250, Rag.GREEN), (270, Rag.AMBER), (300, Rag.RED)])
def test_falling_indicator_is_rated_against_the_target_after_its_date(
    value: float, rag: Rag
) -> None:
    assert ASB.rag(value, date(2022, 3, 31)) == rag


def test_falling_indicator_below_course_is_green_early_on() -> None:
    assert ASB.rag(374, date(2020, 12, 31)) == Rag.GREEN  # Q3 2020/21, well under the line


def test_exact_hit_is_green_despite_float_noise() -> None:
    line = Trajectory(Direction.UP, 0.1, 0.3, date(2020, 1, 1), date(2020, 1, 2), 0.0)
    assert line.rag(0.1 + 0.2, date(2020, 1, 2)) == Rag.GREEN


def test_gap_to_target_is_what_is_left_to_travel_and_never_negative() -> None:
    assert FEEL_SAFE.gap_to_target(35.49) == pytest.approx(24.51)
    assert FEEL_SAFE.gap_to_target(68.65) == 0.0
    assert ASB.gap_to_target(300) == 50


def test_target_dated_before_its_start_is_measured_against_the_target() -> None:
    line = Trajectory(Direction.UP, 10, 20, date(2021, 1, 1), date(2020, 1, 1), 1)
    assert line.expected_on(date(2020, 6, 1)) == 20


def test_off_track_only_when_turning_red() -> None:
    assert turned_red(None, "red")
    assert turned_red("amber", "red")
    assert not turned_red("red", "red")
    assert not turned_red("red", "amber")


def test_newer_period_or_revision_supersedes_an_older_one_does_not() -> None:
    known = ObservationPoint(date(2021, 3, 31), 1)
    assert supersedes(ObservationPoint(date(2021, 3, 31), 1), None)
    assert supersedes(ObservationPoint(date(2021, 3, 31), 2), known)
    assert supersedes(ObservationPoint(date(2021, 9, 30), 1), known)
    assert not supersedes(ObservationPoint(date(2020, 9, 30), 5), known)
