"""The one RAG rule for a target: a straight-line trajectory from baseline to target value, with
an amber tolerance (docs/actionplans.md, "RAG rule").

It lives in the common library because two services rate the same targets: actionplans on the
plan, metrics on the scorecard, and services may not import each other. Kept twice, the two
copies drifted once (the scorecard rated against the final target, the plan against the
trajectory, so one target was green on one page and amber on the other); one pure function,
used by both, makes the same target show the same colour as of the same date.

No I/O and no business data here: just the line and the comparison.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


UP, DOWN = "up", "down"


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A target as a straight line from the baseline to the target value.

    The line starts at the baseline value on `starts_on` (the end of the baseline period when
    known, otherwise the day the target was set) and reaches the target value on `ends_on`.
    A target with no baseline date (an indicator's own target) is a line of zero length: it is
    rated against the target value from the start.
    """

    direction: str  # "up" or "down": which way is good
    baseline_value: float
    target_value: float
    starts_on: date
    ends_on: date
    amber_tolerance: float

    @classmethod
    def flat(cls, direction: str, target_value: float, amber_tolerance: float) -> "Trajectory":
        """A target with no baseline: rated against its value on every date."""
        return cls(direction, target_value, target_value, date.min, date.min, amber_tolerance)

    def expected_on(self, day: date) -> float:
        """Where the indicator should be on `day` to be on course for the target."""
        if day >= self.ends_on or self.ends_on <= self.starts_on:
            return self.target_value
        if day <= self.starts_on:
            return self.baseline_value
        elapsed = (day - self.starts_on).days / (self.ends_on - self.starts_on).days
        return self.baseline_value + (self.target_value - self.baseline_value) * elapsed

    def shortfall(self, value: float, measured_on: date) -> float:
        """How far `value` falls short of the expected value (<= 0 means on or ahead of course)."""
        expected = self.expected_on(measured_on)
        gap = expected - value if self.direction == UP else value - expected
        return round(gap, 9)  # float noise must not turn an exact hit into a miss

    def rag(self, value: float, measured_on: date) -> Rag:
        """Green on or ahead of course, amber short by at most the tolerance, red beyond.

        `measured_on` is the end of the period the value describes, not the day it is read.
        """
        shortfall = self.shortfall(value, measured_on)
        if shortfall <= 0:
            return Rag.GREEN
        if shortfall <= self.amber_tolerance:
            return Rag.AMBER
        return Rag.RED

    def gap_to_target(self, value: float) -> float:
        """Distance still to travel to the final target (0 once it is met), in indicator units."""
        gap = self.target_value - value if self.direction == UP else value - self.target_value
        return max(round(gap, 9), 0.0)
