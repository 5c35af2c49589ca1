"""Numbers for people (the report) and for machines (CSV): pure functions.

People read percentages with one decimal, counts as whole numbers with thousands separators
and durations in days and hours. CSV keeps every digit a float holds, but never in scientific
notation, which spreadsheets and readers mistake for text.
"""

import math
from decimal import ROUND_HALF_UP, Context, Decimal

DASH = "\u2013"  # an en dash, shown where there is no value


def one_decimal(value: float) -> Decimal:
    """The value as written, rounded half up as people round: 55.25 -> 55.3, -1.25 -> -1.3.

    Rounding the float itself would give 55.2 (55.25 is exact in binary and ties go to even)
    but 68.7 for 68.65 (stored a hair above), so a paper's figures would round unevenly.
    """
    written = Decimal(repr(value))
    if not written.is_finite():
        return written
    # Enough digits for the largest float, which the default 28 would refuse to quantize.
    return written.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP, context=Context(prec=400))


def percent(value: float | None) -> str:
    """68.65 -> '68.7%'."""
    return DASH if value is None else f"{one_decimal(value)}%"


def count(value: float | None) -> str:
    """1234.0 -> '1,234'."""
    return DASH if value is None else f"{round(value):,}"


def points(value: float | None) -> str:
    """A change in percentage points with its sign: 1.42 -> '+1.4 points'."""
    return DASH if value is None else f"{one_decimal(value):+} points"


def signed_percent(value: float | None) -> str:
    """A relative change: 0.26 -> '+26.0%'."""
    return DASH if value is None else f"{one_decimal(100 * value):+}%"


def days_and_hours(days: float | None) -> str:
    """A duration given in days: 2.5 -> '2 days 12 hours', 0.25 -> '6 hours'."""
    if days is None:
        return DASH
    total_hours = round(days * 24)
    whole_days, hours = divmod(total_hours, 24)
    parts = []
    if whole_days:
        parts.append(f"{whole_days} day" + ("" if whole_days == 1 else "s"))
    if hours or not whole_days:
        parts.append(f"{hours} hour" + ("" if hours == 1 else "s"))
    return " ".join(parts)


def value_in_unit(value: float | None, unit: str) -> str:
    """A value as its unit reads: percent with one decimal, counts whole, else one decimal."""
    if value is None:
        return DASH
    if unit == "percent":
        return percent(value)
    if unit == "count":
        return count(value)
    if unit == "days":
        return days_and_hours(value)
    return f"{one_decimal(value):,}"


def plain_decimal(value: float) -> str:
    """Every digit of a float, never in exponent form: 5.80897e-07 -> '0.000000580897'."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} has no decimal form")
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
