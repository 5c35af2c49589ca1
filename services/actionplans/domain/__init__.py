"""Action plan rules: statuses and their transitions, review cadence, SMART targets and RAG.

No I/O here: everything is a function of its arguments, so the rules are tested on their own.
"""

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

# The RAG rule is shared with the metrics service's scorecard: one rule, one colour per target.
from shared.rag import Rag as Rag
from shared.rag import Trajectory as Trajectory


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


@dataclass(frozen=True, slots=True)
class PlanFilter:
    """Which plans a list asks for (all when every field is None)."""

    locality_code: str | None = None
    status: str | None = None
    lead_organisation: str | None = None
    objective_code: str | None = None

    def admits(self, fields: dict[str, Any]) -> bool:
        """Whether a plan with these fields (as now, or as at a past moment) is asked for."""
        return (
            (self.locality_code is None or fields["locality_code"] == self.locality_code)
            and (self.status is None or fields["status"] == self.status)
            and (
                self.lead_organisation is None
                or fields["lead_organisation"] == self.lead_organisation
            )
            and (self.objective_code is None or self.objective_code in fields["objective_codes"])
        )
