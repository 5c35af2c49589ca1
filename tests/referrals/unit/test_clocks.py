"""Working-day clocks: Europe/London, weekends, bank holidays, clock changes, after hours."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.referrals.config import RULES_DIR, load_calendar
from services.referrals.domain import ClockName, Track
from services.referrals.domain.clocks import (
    WorkingCalendar,
    clock_for_track,
    first_contact_due,
    is_overdue,
    resolved_within_due,
    see_and_solve_due,
)

pytestmark = pytest.mark.unit

LONDON = ZoneInfo("Europe/London")
CALENDAR = load_calendar(RULES_DIR / "working_calendar.json")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("triaged_at", "due_at"),
    [
        # Winter (GMT): 17:00 local is 17:00 UTC.
        (london(2026, 3, 23, 10, 0), utc(2026, 3, 23, 17, 0)),
        # Summer (BST): 17:00 local is 16:00 UTC.
        (london(2026, 6, 1, 10, 0), utc(2026, 6, 1, 16, 0)),
        # Before opening counts for that day.
        (london(2026, 6, 1, 7, 15), utc(2026, 6, 1, 16, 0)),
        # At or after closing counts for the next working day.
        (london(2026, 6, 1, 17, 0), utc(2026, 6, 2, 16, 0)),
        (london(2026, 6, 1, 22, 30), utc(2026, 6, 2, 16, 0)),
        # Friday evening before the clocks go forward: due Monday, now in BST.
        (london(2026, 3, 27, 18, 0), utc(2026, 3, 30, 16, 0)),
        # Friday evening before the clocks go back: due Monday, now in GMT.
        (london(2026, 10, 23, 18, 0), utc(2026, 10, 26, 17, 0)),
        # Triaged on the Sunday the clocks change.
        (london(2026, 3, 29, 12, 0), utc(2026, 3, 30, 16, 0)),
        # Weekend.
        (london(2026, 6, 6, 11, 0), utc(2026, 6, 8, 16, 0)),
        # Thursday after hours before Easter: Good Friday and Easter Monday are skipped.
        (london(2026, 4, 2, 17, 30), utc(2026, 4, 7, 16, 0)),
        # Christmas 2026: the 25th, the weekend and the substitute Boxing Day (28th).
        (london(2026, 12, 24, 17, 30), utc(2026, 12, 29, 17, 0)),
        # On a bank holiday itself.
        (london(2026, 5, 25, 10, 0), utc(2026, 5, 26, 16, 0)),
    ],
)
def test_see_and_solve_is_due_at_the_end_of_the_working_day_it_was_triaged(
    triaged_at: datetime, due_at: datetime
) -> None:
    assert see_and_solve_due(CALENDAR, triaged_at.astimezone(UTC)) == due_at


def test_a_utc_timestamp_just_before_midnight_is_read_as_the_next_london_day() -> None:
    # 23:30 UTC on Sunday 31 May is 00:30 BST on Monday 1 June: before opening, that day.
    assert see_and_solve_due(CALENDAR, utc(2026, 5, 31, 23, 30)) == utc(2026, 6, 1, 16, 0)


@pytest.mark.parametrize(
    ("triaged_at", "days", "due_at"),
    [
        (london(2026, 6, 1, 10, 0), 2, utc(2026, 6, 3, 16, 0)),
        (london(2026, 6, 4, 10, 0), 2, utc(2026, 6, 8, 16, 0)),  # over a weekend
        (london(2026, 4, 2, 10, 0), 2, utc(2026, 4, 8, 16, 0)),  # over Easter
        (london(2026, 6, 1, 19, 0), 1, utc(2026, 6, 3, 16, 0)),  # after hours starts tomorrow
        (london(2026, 10, 22, 10, 0), 2, utc(2026, 10, 26, 17, 0)),  # across the clock change
        (london(2026, 6, 1, 10, 0), 0, utc(2026, 6, 1, 16, 0)),
    ],
)
def test_first_partner_contact_is_due_after_n_working_days(
    triaged_at: datetime, days: int, due_at: datetime
) -> None:
    assert first_contact_due(CALENDAR, triaged_at.astimezone(UTC), days) == due_at


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        first_contact_due(CALENDAR, utc(2026, 6, 1, 9), -1)


def test_working_hours_and_weekdays_are_configurable() -> None:
    calendar = WorkingCalendar(
        day_starts=time(8, 0), day_ends=time(18, 30), weekdays=frozenset({0, 1, 2, 3, 4, 5})
    )
    # Saturday is a working day for this team, and the day ends at 18:30 BST.
    assert see_and_solve_due(calendar, london(2026, 6, 6, 11, 0)) == utc(2026, 6, 6, 17, 30)
    assert see_and_solve_due(calendar, london(2026, 6, 1, 18, 0)) == utc(2026, 6, 1, 17, 30)


def test_bank_holidays_are_data_and_a_calendar_without_them_works_through() -> None:
    without = WorkingCalendar()
    assert see_and_solve_due(without, london(2026, 5, 25, 10)) == utc(2026, 5, 25, 16, 0)
    assert date(2026, 12, 28) in CALENDAR.bank_holidays
    assert date(2027, 3, 26) in CALENDAR.bank_holidays


def test_a_day_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(day_starts=time(17), day_ends=time(9))
    with pytest.raises(ValueError):
        WorkingCalendar(weekdays=frozenset())


def test_only_see_and_solve_and_multi_agency_start_a_clock() -> None:
    at = utc(2026, 6, 1, 9)
    assert clock_for_track(CALENDAR, Track.SEE_AND_SOLVE, at, 2) == (
        ClockName.SEE_AND_SOLVE,
        utc(2026, 6, 1, 16),
    )
    assert clock_for_track(CALENDAR, Track.MULTI_AGENCY, at, 2) == (
        ClockName.FIRST_PARTNER_CONTACT,
        utc(2026, 6, 3, 16),
    )
    for track in (Track.SIGNPOST, Track.NO_FURTHER_ACTION, Track.ESCALATE_STATUTORY):
        assert clock_for_track(CALENDAR, track, at, 2) is None


def test_a_clock_is_overdue_only_while_running_and_past_due() -> None:
    due = utc(2026, 6, 1, 16)
    assert is_overdue(due, None, utc(2026, 6, 1, 16, 1))
    assert not is_overdue(due, None, due)
    assert not is_overdue(due, utc(2026, 6, 1, 15), utc(2026, 6, 2))
    assert not is_overdue(None, None, utc(2026, 6, 2))


def test_within_due_is_reported_for_see_and_solve_only() -> None:
    due = utc(2026, 6, 1, 16)
    assert resolved_within_due("see_and_solve", due, due) is True
    assert resolved_within_due("see_and_solve", due, due + timedelta(seconds=1)) is False
    assert resolved_within_due("first_partner_contact", due, due) is None
    assert resolved_within_due(None, None, due) is None
