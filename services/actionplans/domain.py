"""Action plan rules: statuses and their transitions, review cadence, SMART targets and RAG.

No I/O here: everything is a function of its arguments, so the rules are tested on their own.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


# A closed plan may be reopened (a problem came back); an active plan never returns to draft.
PLAN_TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.ACTIVE, PlanStatus.CLOSED}),
    PlanStatus.ACTIVE: frozenset({PlanStatus.CLOSED}),
    PlanStatus.CLOSED: frozenset({PlanStatus.ACTIVE}),
}


class ActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


# Done may be reopened (the fix did not hold); cancelled is final.
ACTION_TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.NOT_STARTED: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.CANCELLED}
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.CANCELLED}
    ),
    ActionStatus.BLOCKED: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.CANCELLED}
    ),
    ActionStatus.DONE: frozenset({ActionStatus.IN_PROGRESS}),
    ActionStatus.CANCELLED: frozenset(),
}
OPEN_ACTION_STATUSES = frozenset(
    {ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED}
)


class ReviewCadence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class DirectionSource(StrEnum):
    INDICATOR = "indicator"  # learned from the metrics service's observations
    CALLER = "caller"  # given when the target was set, before the indicator was seen


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow."""


def check_plan_transition(current: str, requested: str) -> None:
    """Raise TransitionRefused unless the plan may move from `current` to `requested`."""
    allowed = PLAN_TRANSITIONS[PlanStatus(current)]
    if PlanStatus(requested) not in allowed:
        raise TransitionRefused(
            f"A {current} plan cannot become {requested}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}."
        )


def check_action_transition(current: str, requested: str) -> None:
    """Raise TransitionRefused unless the action may move from `current` to `requested`."""
    allowed = ACTION_TRANSITIONS[ActionStatus(current)]
    if ActionStatus(requested) not in allowed:
        raise TransitionRefused(
            f"A {current} action cannot become {requested}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}."
        )


def next_review_date(held_on: date, cadence: str) -> date:
    """The meeting after one held on `held_on`, at the plan's cadence."""
    match ReviewCadence(cadence):
        case ReviewCadence.WEEKLY:
            return held_on + timedelta(days=7)
        case ReviewCadence.FORTNIGHTLY:
            return held_on + timedelta(days=14)
        case ReviewCadence.MONTHLY:
            return add_months(held_on, 1)
        case ReviewCadence.QUARTERLY:
            return add_months(held_on, 3)


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's end (31 Jan -> 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_overdue(due_on: date | None, status: str, today: date) -> bool:
    """An open action whose due date is in the past."""
    return due_on is not None and ActionStatus(status) in OPEN_ACTION_STATUSES and due_on < today


def missing_target_fields(
    *,
    indicator_code: str | None,
    baseline_value: float | None,
    baseline_period: str | None,
    target_value: float | None,
    target_date: date | None,
) -> list[str]:
    """What a target lacks to be measurable: an indicator, a baseline, a target value and date."""
    missing = []
    if not indicator_code or not indicator_code.strip():
        missing.append("indicator_code")
    if baseline_value is None or not math.isfinite(baseline_value):
        missing.append("baseline_value")
    if not baseline_period or not baseline_period.strip():
        missing.append("baseline_period")
    if target_value is None or not math.isfinite(target_value):
        missing.append("target_value")
    if target_date is None:
        missing.append("target_date")
    return missing


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A SMART target as a straight line from the baseline to the target value.

    The line starts at the baseline value on `starts_on` (the end of the baseline period when
    known, otherwise the day the target was set) and reaches the target value on `ends_on`.
    """

    direction: Direction
    baseline_value: float
    target_value: float
    starts_on: date
    ends_on: date
    amber_tolerance: float

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
        gap = expected - value if self.direction == Direction.UP else value - expected
        return round(gap, 9)  # float noise must not turn an exact hit into a miss

    def rag(self, value: float, measured_on: date) -> Rag:
        """Green on or ahead of course, amber short by at most the tolerance, red beyond."""
        shortfall = self.shortfall(value, measured_on)
        if shortfall <= 0:
            return Rag.GREEN
        if shortfall <= self.amber_tolerance:
            return Rag.AMBER
        return Rag.RED

    def gap_to_target(self, value: float) -> float:
        """Distance still to travel to the final target (0 once it is met), in indicator units."""
        gap = (
            self.target_value - value
            if self.direction == Direction.UP
            else value - self.target_value
        )
        return max(round(gap, 9), 0.0)


def turned_red(previous: str | None, current: str | None) -> bool:
    """A target went off track: it is red now and was not before."""
    return current == Rag.RED and previous != Rag.RED


@dataclass(frozen=True, slots=True)
class ObservationPoint:
    """The latest value of an indicator for an area, as far as this service knows."""

    period_end: date
    revision: int


def supersedes(new: ObservationPoint, known: ObservationPoint | None) -> bool:
    """A newer period, or a revision of the same period, replaces what is known."""
    if known is None:
        return True
    if new.period_end != known.period_end:
        return new.period_end > known.period_end
    return new.revision >= known.revision
