"""Periods and observation rules of the metrics domain."""

from datetime import date

import pytest

from services.metrics.domain import (
    Frequency,
    Granularity,
    IndicatorRules,
    InvalidObservation,
    ObservationInput,
    Source,
    Unit,
    check_observation,
    check_period,
    period_end_for,
    period_label,
)

pytestmark = pytest.mark.unit

SURVEY = IndicatorRules("feel_safe_day", Unit.PERCENT, Frequency.SURVEY_WAVE, Source.SURVEY)
INCIDENTS = IndicatorRules("asb_incidents", Unit.COUNT, Frequency.QUARTERLY, Source.POLICE)
RATE = IndicatorRules("asb_rate", Unit.RATE_PER_1000, Frequency.ANNUAL, Source.COUNCIL)


def observation(value: float, start: date, end: date, **extra: object) -> ObservationInput:
    return ObservationInput("x", "NP", start, end, value, **extra)  # type: ignore[arg-type]


def field_of(rules: IndicatorRules, item: ObservationInput) -> str:
    with pytest.raises(InvalidObservation) as error:
        check_observation(rules, item)
    return error.value.field


def test_quarters_are_three_whole_months_starting_jan_apr_jul_or_oct() -> None:
    check_period(Frequency.QUARTERLY, date(2020, 4, 1), date(2020, 6, 30))
    for start, end in [
        (date(2020, 4, 2), date(2020, 6, 30)),
        (date(2020, 4, 1), date(2020, 6, 29)),
        (date(2020, 5, 1), date(2020, 7, 31)),
        (date(2020, 4, 1), date(2020, 9, 30)),
    ]:
        with pytest.raises(InvalidObservation):
            check_period(Frequency.QUARTERLY, start, end)


def test_months_and_years_must_be_whole() -> None:
    check_period(Frequency.MONTHLY, date(2024, 2, 1), date(2024, 2, 29))
    check_period(Frequency.ANNUAL, date(2021, 4, 1), date(2022, 3, 31))
    with pytest.raises(InvalidObservation):
        check_period(Frequency.MONTHLY, date(2023, 2, 1), date(2023, 3, 31))


def test_a_survey_wave_may_span_any_days_up_to_a_year_but_not_backwards() -> None:
    check_period(Frequency.SURVEY_WAVE, date(2020, 9, 14), date(2020, 10, 2))
    with pytest.raises(InvalidObservation):
        check_period(Frequency.SURVEY_WAVE, date(2020, 9, 14), date(2020, 9, 1))


def test_values_must_fit_the_unit() -> None:
    wave = (date(2020, 9, 1), date(2020, 9, 30))
    quarter = (date(2020, 4, 1), date(2020, 6, 30))
    assert field_of(SURVEY, observation(101, *wave)) == "value"
    assert field_of(SURVEY, observation(-1, *wave)) == "value"
    assert field_of(SURVEY, observation(float("nan"), *wave)) == "value"
    assert field_of(INCIDENTS, observation(12.5, *quarter)) == "value"
    assert field_of(INCIDENTS, observation(12, *quarter, sample_size=40)) == "sample_size"
    assert field_of(SURVEY, observation(50, *wave, sample_size=0)) == "sample_size"
    check_observation(SURVEY, observation(31.18, *wave, sample_size=93))


def test_numerator_and_denominator_must_give_the_value() -> None:
    year = (date(2021, 4, 1), date(2022, 3, 31))
    check_observation(RATE, observation(12.5, *year, numerator=25, denominator=2000))
    assert field_of(RATE, observation(20, *year, numerator=25, denominator=2000)) == "value"
    assert field_of(RATE, observation(1, *year, numerator=2, denominator=0)) == "denominator"
    wave = (date(2020, 9, 1), date(2020, 9, 30))
    check_observation(SURVEY, observation(31.18, *wave, numerator=29, denominator=93))


def test_derived_indicators_cannot_be_recorded_by_hand() -> None:
    derived = IndicatorRules("referrals_received", Unit.COUNT, Frequency.MONTHLY, Source.DERIVED)
    assert (
        field_of(derived, observation(3, date(2021, 1, 1), date(2021, 1, 31))) == "indicator_code"
    )


def test_labels_use_uk_financial_quarters_and_survey_months() -> None:
    assert period_label(Frequency.QUARTERLY, date(2020, 4, 1)) == "2020/21 Q1"
    assert period_label(Frequency.QUARTERLY, date(2022, 1, 1)) == "2021/22 Q4"
    assert period_label(Granularity.MONTH, date(2021, 10, 1)) == "2021-10"
    assert period_label(Frequency.SURVEY_WAVE, date(2020, 9, 1)) == "Wave Sep 2020"
    assert period_label(Frequency.ANNUAL, date(2021, 4, 1)) == "2021/22"
    assert period_label(Frequency.ANNUAL, date(2021, 1, 1)) == "2021"


def test_derived_periods_end_on_their_last_day() -> None:
    assert period_end_for(Granularity.WEEK, date(2026, 3, 2)) == date(2026, 3, 8)
    assert period_end_for(Granularity.MONTH, date(2024, 2, 1)) == date(2024, 2, 29)
    assert period_end_for(Granularity.QUARTER, date(2021, 10, 1)) == date(2021, 12, 31)
