"""Plan and action lifecycles, review cadence, overdue and measurability rules."""

from datetime import date

import pytest

from services.actionplans.domain import (
    TransitionRefused,
    add_months,
    check_action_transition,
    check_plan_transition,
    is_overdue,
    missing_target_fields,
    next_review_date,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "requested"),
    [("draft", "active"), ("draft", "closed"), ("active", "closed"), ("closed", "active")],
)
def test_plan_transitions_allowed(current: str, requested: str) -> None:
    check_plan_transition(current, requested)


@pytest.mark.parametrize(("current", "requested"), [("active", "draft"), ("closed", "draft")])
def test_plan_never_returns_to_draft(current: str, requested: str) -> None:
    with pytest.raises(TransitionRefused, match=f"A {current} plan cannot become draft"):
        check_plan_transition(current, requested)


def test_done_action_may_be_reopened_but_cancelled_is_final() -> None:
    check_action_transition("done", "in_progress")
    with pytest.raises(TransitionRefused, match="allowed: none"):
        check_action_transition("cancelled", "in_progress")
    with pytest.raises(TransitionRefused):
        check_action_transition("done", "cancelled")


@pytest.mark.parametrize(
    ("cadence", "expected"),
    [
        ("weekly", date(2021, 2, 7)),
        ("fortnightly", date(2021, 2, 14)),
        ("monthly", date(2021, 2, 28)),
        ("quarterly", date(2021, 4, 30)),
    ],
)
def test_next_review_follows_the_cadence(cadence: str, expected: date) -> None:
    assert next_review_date(date(2021, 1, 31), cadence) == expected


def test_month_steps_clamp_to_the_end_of_short_months() -> None:
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)
    assert add_months(date(2020, 11, 30), 3) == date(2021, 2, 28)
    assert add_months(date(2021, 12, 15), 1) == date(2022, 1, 15)


def test_open_action_past_its_due_date_is_overdue_finished_one_is_not() -> None:
    today = date(2021, 6, 1)
    assert is_overdue(date(2021, 5, 31), "in_progress", today)
    assert is_overdue(date(2021, 5, 31), "blocked", today)
    assert not is_overdue(date(2021, 6, 1), "not_started", today)  # due today is not late
    assert not is_overdue(date(2021, 5, 31), "done", today)
    assert not is_overdue(None, "not_started", today)


def test_target_lacking_indicator_value_and_date_names_each() -> None:
    missing = missing_target_fields(
        indicator_code=" ",
        baseline_value=31.18,
        baseline_period="Sept 2020",
        target_value=None,
        target_date=None,
    )
    assert missing == ["indicator_code", "target_value", "target_date"]
    assert not missing_target_fields(
        indicator_code="feel_safe_day",
        baseline_value=0.0,
        baseline_period="Sept 2020",
        target_value=60.0,
        target_date=date(2022, 3, 31),
    )
