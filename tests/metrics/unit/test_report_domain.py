"""Pure parts of the report and the aggregation: statistics, formatting, charts, selection."""

import itertools
from datetime import date

import pytest

from services.metrics.domain import chart, formatting, statistics, what_changed
from services.metrics.domain.flow import ReferralFlow, combine
from services.metrics.domain.what_changed import Movement
from services.referrals.domain import Channel
from shared.contracts.referrals import CHANNELS

pytestmark = pytest.mark.unit


def test_communications_campaign_rise_of_26_percent_is_not_significant_on_100_referrals() -> None:
    # Doncaster: referrals rose 26% after the campaign; on 100 -> 126 in equal 11-week periods
    # the rise could still be chance (z = 26 / sqrt(226) = 1.73).
    change = statistics.poisson_rate_test(100, 77, 126, 77)
    assert change.relative == pytest.approx(0.26)
    assert change.z == pytest.approx(26 / 226**0.5)
    assert change.p_value == pytest.approx(0.0838, abs=1e-4)
    assert not change.significant


def test_rate_test_compares_periods_of_different_lengths_per_day() -> None:
    change = statistics.poisson_rate_test(77, 77, 112, 56)  # 1 a day, then 2 a day
    assert (change.before, change.after) == (1.0, 2.0)
    assert change.significant and change.p_value is not None and change.p_value < 1e-5


def test_see_and_solve_share_69_against_55_percent_is_significant_on_100_each() -> None:
    change = statistics.two_proportion_test(69, 100, 55, 100)
    assert (change.before, change.after) == (69.0, 55.0)
    assert change.absolute == pytest.approx(-14.0)
    assert change.z == pytest.approx(-2.0395, abs=1e-4)
    assert change.p_value == pytest.approx(0.0414, abs=1e-4)
    assert change.significant


def test_two_proportion_test_without_data_in_a_period_makes_no_claim() -> None:
    change = statistics.two_proportion_test(0, 0, 5, 10)
    assert change.z is None and change.p_value is None and not change.significant


def test_survey_confidence_interval_of_a_wave() -> None:
    low, high = statistics.proportion_interval(50.0, 100)
    assert (low, high) == pytest.approx((40.2, 59.8), abs=0.01)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.80897e-07, "0.000000580897"),
        (-0.671128, "-0.671128"),
        (31.18, "31.18"),
        (523.0, "523"),
        (-0.6711281179138322, "-0.6711281179138322"),
        (1e21, "1000000000000000000000"),
        (0.0, "0"),
    ],
)
def test_csv_numbers_keep_every_digit_without_exponent(value: float, text: str) -> None:
    assert formatting.plain_decimal(value) == text
    assert float(text) == value


def test_numbers_for_people() -> None:
    assert formatting.percent(68.65) == "68.7%"
    # Halves round up as on paper, whether or not the float is stored a hair below the half.
    assert formatting.percent(55.25) == "55.3%" and formatting.percent(0.05) == "0.1%"
    assert formatting.points(-1.25) == "-1.3 points" and formatting.points(0.0) == "+0.0 points"
    assert formatting.signed_percent(0.26) == "+26.0%"
    assert formatting.value_in_unit(1234.25, "score") == "1,234.3"
    assert formatting.count(1234.0) == "1,234"
    assert formatting.points(1.42) == "+1.4 points"
    assert formatting.days_and_hours(2.5) == "2 days 12 hours"
    assert formatting.days_and_hours(0.25) == "6 hours"
    assert formatting.days_and_hours(1.0) == "1 day"
    assert formatting.value_in_unit(None, "percent") == formatting.DASH


def test_halves_round_up_as_the_papers_round_them() -> None:
    # 55.25 is exact in binary, so Python's half-to-even rounding would print 55.2%.
    assert formatting.percent(55.25) == "55.3%"
    assert formatting.count(2.5) == "3"
    assert formatting.points(-0.04) == "+0.0 points"  # never a negative zero
    assert formatting.percent(-0.04) == "0.0%"


def test_nice_ticks_cover_the_values_in_round_steps() -> None:
    assert chart.nice_ticks(31.18, 68.65) == [30, 40, 50, 60, 70]
    assert chart.nice_ticks(5, 5) == [5, 5.5, 6]  # a flat series still gets a scale


def test_axis_labels_stand_clear_of_each_other_and_keep_the_last() -> None:
    left, right = chart.MARGIN_LEFT, chart.WIDTH - chart.MARGIN_RIGHT
    step = (right - left) / 119
    monthly = [(left + i * step, f"2016-{i:03d}") for i in range(120)]  # ten years of months
    kept = chart.axis_labels(monthly, left, right)
    assert 4 <= len(kept) < 20 and kept[-1][1] == "2016-119"
    extents = []
    for x, text, anchor in kept:
        width = len(text) * chart.LABEL_CHAR_WIDTH
        start = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        extents.append((start, start + width))
        assert start >= 0 and start + width <= chart.WIDTH  # inside the picture
    assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(extents))
    waves = [(left, "Wave 1 (Sep 2020)"), (right, "Wave 3 (Oct 2021)")]
    assert [anchor for *_, anchor in chart.axis_labels(waves, left, right)] == ["start", "end"]


def test_chart_maps_values_onto_the_plot_with_higher_values_drawn_higher() -> None:
    points = [
        chart.ChartPoint(date(2020, 9, 30), "Wave 1", 31.18, 26.0, 36.0),
        chart.ChartPoint(date(2021, 10, 31), "Wave 3", 68.65, 63.0, 74.0),
    ]
    drawn = chart.line_chart(points)
    (x1, y1), (x2, y2) = drawn.markers
    assert (x1, x2) == (drawn.plot_left, drawn.plot_right)
    assert y2 < y1  # SVG's y grows downwards
    assert drawn.series_path == f"M{x1:.1f} {y1:.1f} L{x2:.1f} {y2:.1f}"
    assert len(drawn.whiskers) == 2 and drawn.whiskers[0][1] > drawn.whiskers[0][2]
    assert drawn.target_path is None and drawn.green_band is None


def test_chart_draws_the_trajectory_green_above_and_amber_below_when_up_is_good() -> None:
    points = [chart.ChartPoint(date(2021, 3, 31), "Q4", 40.0)]
    target = chart.TargetLine(
        ((date(2020, 9, 30), 30.0), (date(2022, 3, 31), 60.0)), 5.0, higher_is_better=True
    )
    drawn = chart.line_chart(points, target)
    assert drawn.target_path is not None and drawn.target_path.startswith("M")
    assert drawn.green_band is not None and drawn.amber_band is not None
    green_ys = [float(p.split(",")[1]) for p in drawn.green_band.split()]
    assert min(green_ys) == drawn.plot_top  # green reaches the top: above the line is on course
    amber_ys = [float(p.split(",")[1]) for p in drawn.amber_band.split()]
    assert max(amber_ys) < drawn.plot_bottom


def movement(code: str, previous: float, latest: float, **extra: str | None) -> Movement:
    values: dict[str, str | None] = {
        "status_since_previous": "no_clear_change",
        "rag_before": None,
        "rag_now": None,
    }
    values.update(extra)
    return Movement(
        code, code.replace("_", " ").capitalize(), "percent", previous, latest, **values
    )  # type: ignore[arg-type]


def test_what_changed_puts_targets_turning_red_first_then_largest_movements() -> None:
    lines = what_changed.select(
        [
            movement("feel_safe_dark", 47.5, 48.9),
            movement("feel_safe_day", 35.49, 68.65, status_since_previous="improving"),
            movement("gang_nuisance", 71.7, 77.1, rag_before="amber", rag_now="red"),
            movement("unchanged", 50.0, 50.0),
        ],
        limit=3,
    )
    assert lines[0] == "Gang nuisance turned red against its target."
    assert lines[1].startswith("Feel safe day rose, +33.2 points, an improvement")
    assert lines[2] == "Feel safe dark rose, +1.4 points, not significant (47.5% → 48.9%)."


def test_an_authority_flow_is_the_sum_of_its_localities_and_its_median_is_recomputed() -> None:
    north = ReferralFlow(
        "DNN",
        received_by_channel={"phone": 3},
        received_by_category={"asb": 2, "environmental": 1},
        triaged_by_track={"see_and_solve": 2, "multi_agency": 1},
        see_and_solve_resolved=2,
        see_and_solve_within_day=1,
        overdue=1,
        resolution_days=(1.0, 2.0, 9.0),
    )
    south = ReferralFlow(
        "DNS",
        received_by_channel={"phone": 1, "email": 4},
        received_by_category={"asb": 5},
        triaged_by_track={"see_and_solve": 5},
        see_and_solve_resolved=4,
        see_and_solve_within_day=4,
        resolution_days=(0.5,),
    )
    total = combine("DONC", [north, south])
    assert total.received == north.received + south.received == 8
    assert total.received_by_channel == {"email": 4, "phone": 4}
    assert total.received_by_category == {"asb": 7, "environmental": 1}
    assert total.see_and_solve_share == pytest.approx(100 * 7 / 8)
    assert total.within_day_share == pytest.approx(100 * 5 / 6)
    assert total.median_days_to_resolution == 1.5  # of (0.5, 1, 2, 9), not a mean of medians


def test_the_channel_codes_of_the_contract_are_the_referrals_service_channels() -> None:
    assert set(CHANNELS) == {c.value for c in Channel}
