"""Significance of a change between two periods: pure functions, no I/O.

- shares (see-and-solve share, within-the-day share): a two-proportion z-test with the pooled
  proportion under the null hypothesis that both periods share one rate;
- counts (referrals received): each period's count is Poisson with a rate per day; the test
  compares the two rates, pooled under the null hypothesis, so periods of different lengths
  (11 weeks before, 8 weeks after) compare fairly.
A change is called significant at the 5% level (two-sided).
"""

import math
from dataclasses import dataclass

SIGNIFICANCE_LEVEL = 0.05


@dataclass(frozen=True, slots=True)
class PeriodChange:
    """The change from the first period to the second and whether chance explains it."""

    before: float  # a share in percent, or a rate per day
    after: float
    absolute: float  # after - before (percentage points for shares)
    relative: float | None  # after / before - 1; None when before is zero
    z: float | None  # None when the test cannot be made (no data in a period)
    p_value: float | None
    significant: bool
    method: str  # "two_proportion_z" | "poisson_rate_z"


def two_sided_p_value(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def _relative(before: float, after: float) -> float | None:
    return None if before == 0 else after / before - 1


def two_proportion_test(
    successes_before: int, total_before: int, successes_after: int, total_after: int
) -> PeriodChange:
    """Two-proportion z-test (pooled) on shares; values in percent."""
    before = 100.0 * successes_before / total_before if total_before else 0.0
    after = 100.0 * successes_after / total_after if total_after else 0.0
    z = p_value = None
    if total_before and total_after:
        pooled = (successes_before + successes_after) / (total_before + total_after)
        variance = pooled * (1 - pooled) * (1 / total_before + 1 / total_after)
        if variance > 0:
            z = (after - before) / 100.0 / math.sqrt(variance)
            p_value = two_sided_p_value(z)
    return PeriodChange(
        before=before,
        after=after,
        absolute=after - before,
        relative=_relative(before, after),
        z=z,
        p_value=p_value,
        significant=p_value is not None and p_value < SIGNIFICANCE_LEVEL,
        method="two_proportion_z",
    )


def poisson_rate_test(
    count_before: int, days_before: float, count_after: int, days_after: float
) -> PeriodChange:
    """Compare two Poisson rates (events per day) with the pooled rate under the null."""
    if days_before <= 0 or days_after <= 0:
        raise ValueError("both periods need a positive length")
    before, after = count_before / days_before, count_after / days_after
    z = p_value = None
    pooled = (count_before + count_after) / (days_before + days_after)
    if pooled > 0:
        z = (after - before) / math.sqrt(pooled * (1 / days_before + 1 / days_after))
        p_value = two_sided_p_value(z)
    return PeriodChange(
        before=before,
        after=after,
        absolute=after - before,
        relative=_relative(before, after),
        z=z,
        p_value=p_value,
        significant=p_value is not None and p_value < SIGNIFICANCE_LEVEL,
        method="poisson_rate_z",
    )


def proportion_interval(percent: float, sample_size: int) -> tuple[float, float]:
    """95% confidence interval of a survey percentage (normal approximation, clipped 0..100)."""
    share = percent / 100
    half_width = 1.959963984540054 * math.sqrt(share * (1 - share) / sample_size)
    return max(0.0, 100 * (share - half_width)), min(100.0, 100 * (share + half_width))
