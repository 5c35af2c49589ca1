"""Answering as at a past moment: the target version in force, a plan replayed from its history.

A plan's row holds only its present; its history (`plan_history`) records each change with the
values before and after, so the plan as it stood at `as_of` is the present with every later
change undone. No I/O here: the use cases pass the rows in.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


class _NotRecorded:
    def __repr__(self) -> str:
        return "NOT_RECORDED"


# The history row says what a field became but not what it was (rows written before it did).
NOT_RECORDED: Any = _NotRecorded()

# History rows that change the plan row itself (and bump its version).
PLAN_ROW_CHANGES = frozenset({"plan.updated", "review.recorded"})

# The plan's fields that change over time; the others (id, locality, created_at) never do.
PLAN_FIELDS = (
    "title",
    "objective_codes",
    "lead_person",
    "lead_organisation",
    "member_organisations",
    "status",
    "review_cadence",
    "next_review_on",
)


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One row of a plan's history: what kind of change, when, and its details."""

    change: str
    at: datetime
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A plan field changed at `at` from `before` (NOT_RECORDED if unknown) to `after`."""

    at: datetime
    field: str
    after: Any
    before: Any = NOT_RECORDED


def version_in_force(set_at_by_version: Mapping[int, datetime], as_of: datetime) -> int | None:
    """The highest version set on or before `as_of`; None if none was set yet."""
    return max((v for v, set_at in set_at_by_version.items() if set_at <= as_of), default=None)


def plan_field_changes(history: Iterable[HistoryRecord]) -> list[FieldChange]:
    """What each history row did to the plan's own fields, oldest first."""
    changes = []
    for record in history:
        if record.change == "plan.updated":
            for field, change in record.details.items():
                if field in PLAN_FIELDS:
                    changes.append(
                        FieldChange(
                            record.at,
                            field,
                            after=_field_value(field, change["to"]),
                            before=_field_value(field, change["from"]),
                        )
                    )
        elif record.change == "review.recorded" and "next_review_on" in record.details:
            # A review moves the next review date; rows written before as_of existed lack the old.
            before = record.details.get("previous_next_review_on", NOT_RECORDED)
            changes.append(
                FieldChange(
                    record.at,
                    "next_review_on",
                    after=_field_value("next_review_on", record.details["next_review_on"]),
                    before=_field_value("next_review_on", before),
                )
            )
    return changes


def _field_value(field: str, value: Any) -> Any:
    """History stores JSON: dates come back as text."""
    if field == "next_review_on" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def value_as_of(
    current: Any, changes: Sequence[FieldChange], as_of: datetime, *, initial: Any
) -> Any:
    """One field at `as_of`, from its changes (oldest first) and its value now.

    The last change on or before `as_of` says what it was; with none, it was what the first
    change found (or `initial`, the value at creation, when that row did not record it).
    """
    if not changes:
        return current
    known = [change for change in changes if change.at <= as_of]
    if known:
        return known[-1].after
    first = changes[0]
    return initial if first.before is NOT_RECORDED else first.before


@dataclass(frozen=True, slots=True)
class PlanState:
    """A plan's changing fields at a moment, with its row's `updated_at` and `version` then."""

    fields: dict[str, Any]
    updated_at: datetime
    version: int


def plan_as_of(
    current: Mapping[str, Any],
    *,
    created_at: datetime,
    history: Sequence[HistoryRecord],
    as_of: datetime,
    initial: Mapping[str, Any],
) -> PlanState:
    """The plan at `as_of` (on or after `created_at`): its present with later changes undone.

    `current` holds PLAN_FIELDS now; `history` is every row of the plan's history, oldest
    first; `initial` the values at creation for fields whose first change may not say them.
    """
    changes = plan_field_changes(history)
    fields = {
        field: value_as_of(
            current[field],
            [c for c in changes if c.field == field],
            as_of,
            initial=initial.get(field, NOT_RECORDED),
        )
        for field in PLAN_FIELDS
    }
    touches = [r.at for r in history if r.change in PLAN_ROW_CHANGES and r.at <= as_of]
    return PlanState(fields, max(touches, default=created_at), 1 + len(touches))
