"""Rules of the metrics service: indicator vocabulary, periods and observation checks (no I/O)."""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

INDICATOR_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
DEFAULT_NO_CHANGE_TOLERANCE = 0.05  # a relative change within 5% is "no clear change"


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    RATE_PER_1000 = "rate_per_1000"
    DAYS = "days"


class Direction(StrEnum):
    UP = "up"  # a higher value is better
    DOWN = "down"  # a lower value is better


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SURVEY_WAVE = "survey_wave"
    ANNUAL = "annual"


class Source(StrEnum):
    SURVEY = "survey"
    POLICE = "police"
    COUNCIL = "council"
    DERIVED = "derived"


class Granularity(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class InvalidObservation(ValueError):
    """An observation that breaks a rule; `field` names the offending input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IndicatorRules:
    """What an observation of an indicator must respect."""

    code: str
    unit: Unit
    frequency: Frequency
    source: Source


@dataclass(frozen=True, slots=True)
class ObservationInput:
    """A value for one indicator, area and period, before it is stored."""

    indicator_code: str
    area_code: str
    period_start: date
    period_end: date
    value: float
    period_label: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    sample_size: int | None = None


def months_between(start: date, end: date) -> int:
    """Whole calendar months covered by [start, end] when start is a 1st and end a month end."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def check_period(frequency: Frequency, start: date, end: date) -> None:
    """Refuse a period that does not match the indicator's frequency."""
    if end < start:
        raise InvalidObservation("period_end", "is before period_start")
    if frequency is Frequency.SURVEY_WAVE:
        if (end - start).days > 366:
            raise InvalidObservation("period_end", "a survey wave lasts at most a year")
        return
    expected = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.ANNUAL: 12}[frequency]
    if start.day != 1:
        raise InvalidObservation("period_start", f"a {frequency} period starts on the 1st")
    if not is_month_end(end) or months_between(start, end) != expected:
        raise InvalidObservation(
            "period_end", f"a {frequency} period ends on the last day of month {expected}"
        )
    if frequency is Frequency.QUARTERLY and start.month not in (1, 4, 7, 10):
        raise InvalidObservation("period_start", "a quarter starts in January, April, July or Oct")


def check_observation(rules: IndicatorRules, observation: ObservationInput) -> None:
    """Refuse an observation whose period, value or counts make no sense for its indicator."""
    if rules.source is Source.DERIVED:
        raise InvalidObservation("indicator_code", "derived indicators are computed, not recorded")
    check_period(rules.frequency, observation.period_start, observation.period_end)
    value = observation.value
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidObservation("value", "is not a finite number")
    if value < 0:
        raise InvalidObservation("value", "cannot be negative")
    if rules.unit is Unit.PERCENT and value > 100:
        raise InvalidObservation("value", "a percentage is at most 100")
    if rules.unit is Unit.COUNT and value != int(value):
        raise InvalidObservation("value", "a count is a whole number")
    _check_counts(rules, observation)


def _check_counts(rules: IndicatorRules, observation: ObservationInput) -> None:
    numerator, denominator = observation.numerator, observation.denominator
    if observation.sample_size is not None:
        if observation.sample_size < 1:
            raise InvalidObservation("sample_size", "must be at least 1")
        if rules.source is not Source.SURVEY:
            raise InvalidObservation("sample_size", "only survey indicators have a sample size")
    if numerator is not None and numerator < 0:
        raise InvalidObservation("numerator", "cannot be negative")
    if denominator is not None and denominator <= 0:
        raise InvalidObservation("denominator", "must be positive")
    if numerator is None or denominator is None:
        return
    scale = {Unit.PERCENT: 100.0, Unit.RATE_PER_1000: 1000.0}.get(rules.unit)
    if scale is None:
        return
    implied = numerator / denominator * scale
    if abs(implied - observation.value) > max(0.01 * scale / 100, abs(implied) * 0.001):
        raise InvalidObservation(
            "value", f"numerator/denominator give {implied:.4g}, not {observation.value:g}"
        )


def period_label(frequency: Frequency | Granularity, start: date) -> str:
    """A readable label: monthly "2021-10", quarters as UK financial quarters "2020/21 Q1"."""
    if frequency in (Frequency.MONTHLY, Granularity.MONTH):
        return f"{start:%Y-%m}"
    if frequency in (Frequency.QUARTERLY, Granularity.QUARTER):
        financial_year = start.year if start.month >= 4 else start.year - 1
        quarter = ((start.month - 4) % 12) // 3 + 1
        return f"{financial_year}/{(financial_year + 1) % 100:02d} Q{quarter}"
    if frequency is Frequency.ANNUAL:  # a year from April is a financial year
        return f"{start.year}" if start.month == 1 else f"{start.year}/{(start.year + 1) % 100:02d}"
    if frequency is Granularity.WEEK:
        return f"week of {start.isoformat()}"
    return f"Wave {start:%b %Y}"


def month_end(start: date) -> date:
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def period_end_for(granularity: Granularity, start: date) -> date:
    """Last day of a derived period that begins on `start`."""
    if granularity is Granularity.WEEK:
        return date.fromordinal(start.toordinal() + 6)
    if granularity is Granularity.MONTH:
        return month_end(start)
    last_month = start.month + 2
    return month_end(date(start.year, last_month, 1))
