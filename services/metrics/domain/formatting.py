"""Numbers for people (the report) and for machines (CSV): pure functions.

People read percentages with one decimal, counts as whole numbers with thousands separators
and durations in days and hours. CSV keeps every digit a float holds, but never in scientific
notation, which spreadsheets and readers mistake for text.
"""

import math
from decimal import ROUND_HALF_UP, Context, Decimal

DASH = "\u2013"  # an en dash, shown where there is no value
ONE_DECIMAL, WHOLE = Decimal("0.1"), Decimal("1")


def rounded(value: float, step: Decimal = ONE_DECIMAL) -> Decimal:
    """Rounded half up from the decimal a person wrote (55.25 -> 55.3), as the papers round.

    Python's own rounding goes half to even on the binary value, so 55.25 would read 55.2.
    """
    written = Decimal(repr(value))
    if not written.is_finite():
        return written
    # Enough digits for the largest float, which the default 28 would refuse to quantize.
    result = written.quantize(step, rounding=ROUND_HALF_UP, context=Context(prec=400))
    return result.copy_abs() if result == 0 else result  # never "-0.0"


def percent(value: float | None) -> str:
    """68.65 -> '68.7%'."""
    return DASH if value is None else f"{rounded(value)}%"


def count(value: float | None) -> str:
    """1234.0 -> '1,234'."""
    return DASH if value is None else f"{int(rounded(value, WHOLE)):,}"


def points(value: float | None) -> str:
    """A change in percentage points with its sign: 1.42 -> '+1.4 points'."""
    return DASH if value is None else f"{rounded(value):+} points"


def signed_percent(value: float | None) -> str:
    """A relative change: 0.26 -> '+26.0%'."""
    return DASH if value is None else f"{rounded(100 * value):+}%"


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
    return f"{rounded(value):,}"


def plain_decimal(value: float) -> str:
    """Every digit of a float, never in exponent form: 5.80897e-07 -> '0.000000580897'."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} has no decimal form")
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
