"""The one RAG rule for a target (shared/rag.py): seed targets, and properties over all inputs."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.rag import DOWN, UP, Rag, Trajectory

pytestmark = pytest.mark.unit

# The demo targets on the seed documents' indicators (deploy/local/demo_actionplans.py):
# Newport, feeling safe by day: 31.18% in the Sept 2020 wave, 60% by March 2022, 5 points' leeway.
NP_FEEL_SAFE_DAY = Trajectory(UP, 31.18, 60.0, date(2020, 9, 30), date(2022, 3, 31), 5.0)
# Newport ASB incidents: 523 in Q1 2020/21, 250 a quarter by March 2022, 30 incidents' leeway.
NP_ASB = Trajectory(DOWN, 523, 250, date(2020, 6, 30), date(2022, 3, 31), 30.0)
# North Ormesby, "crime and ASB a big problem": 86.95% in Sept 2020, down to 60%.
NO_CRIME_ASB = Trajectory(DOWN, 86.95, 60.0, date(2020, 9, 30), date(2022, 3, 31), 5.0)


@pytest.mark.parametrize(
    ("trajectory", "value", "period_end", "expected", "rag"),
    [
        # Wave 2 (Mar 2021): the line expects 40.77%; 35.49% is 5.28 short, beyond the leeway.
        (NP_FEEL_SAFE_DAY, 35.49, date(2021, 3, 31), 40.77, Rag.RED),
        # Wave 3 (Oct 2021): 68.65% is ahead of the 52.04% the line expects.
        (NP_FEEL_SAFE_DAY, 68.65, date(2021, 10, 31), 52.04, Rag.GREEN),
        (NP_FEEL_SAFE_DAY, 48.0, date(2021, 10, 31), 52.04, Rag.AMBER),
        # The quarterly ASB counts fall faster than the line: 349 in Q2 2020/21, 172 in Q3 2021/22.
        (NP_ASB, 349, date(2020, 9, 30), 483.70, Rag.GREEN),
        (NP_ASB, 172, date(2021, 12, 31), 288.45, Rag.GREEN),
        (NP_ASB, 310, date(2021, 12, 31), 288.45, Rag.AMBER),
        (NP_ASB, 374, date(2020, 12, 31), 444.39, Rag.GREEN),
        (NO_CRIME_ASB, 86.95, date(2022, 3, 31), 60.0, Rag.RED),
        (NO_CRIME_ASB, 64.0, date(2022, 6, 30), 60.0, Rag.AMBER),
    ],
)
def test_seed_targets_are_rated_against_the_line_at_the_end_of_the_values_period(
    trajectory: Trajectory, value: float, period_end: date, expected: float, rag: Rag
) -> None:
    assert trajectory.expected_on(period_end) == pytest.approx(expected, abs=0.01)
    assert trajectory.rag(value, period_end) == rag


def test_a_target_without_a_baseline_is_rated_against_its_value_from_the_start() -> None:
    own = Trajectory.flat(UP, 75.0, 10.0)
    assert own.rag(75, date(2020, 1, 1)) == Rag.GREEN
    assert own.rag(68.65, date(2030, 1, 1)) == Rag.AMBER
    assert own.rag(60, date(2020, 1, 1)) == Rag.RED


values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def trajectories(draw: st.DrawFn) -> Trajectory:
    starts_on = draw(days)
    length = draw(st.integers(min_value=0, max_value=3650))
    return Trajectory(
        direction=draw(st.sampled_from([UP, DOWN])),
        baseline_value=draw(values),
        target_value=draw(values),
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=length),
        amber_tolerance=draw(st.floats(min_value=0, max_value=1e4)),
    )


ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


@given(trajectories(), values, values, days)
def test_a_better_value_never_gets_a_worse_colour(
    trajectory: Trajectory, a: float, b: float, day: date
) -> None:
    worse, better = sorted((a, b)) if trajectory.direction == UP else sorted((a, b), reverse=True)
    assert ORDER[trajectory.rag(better, day)] >= ORDER[trajectory.rag(worse, day)]


@given(trajectories(), days)
def test_the_line_runs_from_the_baseline_to_the_target_and_never_outside_them(
    trajectory: Trajectory, day: date
) -> None:
    expected = trajectory.expected_on(day)
    low, high = sorted((trajectory.baseline_value, trajectory.target_value))
    assert low - 1e-6 <= expected <= high + 1e-6
    assert trajectory.expected_on(trajectory.ends_on) == trajectory.target_value
    assert trajectory.expected_on(trajectory.ends_on + timedelta(days=1)) == (
        trajectory.target_value
    )
    if trajectory.ends_on > trajectory.starts_on:
        assert trajectory.expected_on(trajectory.starts_on) == trajectory.baseline_value


@given(trajectories(), days)
def test_on_course_is_green_and_the_tolerance_is_the_edge_of_amber(
    trajectory: Trajectory, day: date
) -> None:
    expected = trajectory.expected_on(day)
    short = -1 if trajectory.direction == UP else 1  # the sign of "falling short"
    tolerance = trajectory.amber_tolerance
    assert trajectory.rag(expected, day) == Rag.GREEN
    if tolerance >= 1e-3:
        assert trajectory.rag(expected + short * tolerance / 2, day) == Rag.AMBER
    assert trajectory.rag(expected + short * (tolerance + 1), day) == Rag.RED


@given(trajectories(), values, days)
def test_a_falling_target_is_the_mirror_of_a_rising_one(
    trajectory: Trajectory, value: float, day: date
) -> None:
    mirrored = Trajectory(
        DOWN if trajectory.direction == UP else UP,
        -trajectory.baseline_value,
        -trajectory.target_value,
        trajectory.starts_on,
        trajectory.ends_on,
        trajectory.amber_tolerance,
    )
    assert mirrored.rag(-value, day) == trajectory.rag(value, day)
