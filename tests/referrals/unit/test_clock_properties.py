"""Properties of the working-day clocks over many triage moments, holidays and clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.referrals.config import RULES_DIR, load_calendar
from services.referrals.domain.clocks import (
    WorkingCalendar,
    first_contact_due,
    see_and_solve_due,
)

pytestmark = pytest.mark.unit

LONDON = ZoneInfo("Europe/London")
CALENDAR = load_calendar(RULES_DIR / "working_calendar.json")
# The bank holidays in the calendar document run 2025-2028; stay inside them.
FIRST, LAST = datetime(2025, 1, 1), datetime(2028, 12, 20)

utc_moments = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC))
london_moments = st.datetimes(
    min_value=FIRST, max_value=LAST, timezones=st.just(LONDON), allow_imaginary=False
)
# The edges of a working day, where off-by-one rules break: 17:00 exactly, a moment either side.
edges = st.builds(
    lambda day, at, nudge: datetime.combine(day, at, tzinfo=LONDON) + nudge,
    st.dates(min_value=FIRST.date(), max_value=LAST.date()),
    st.sampled_from([time(0, 0), time(9, 0), time(17, 0)]),
    st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1)]),
)
moments = utc_moments | london_moments | edges
working_days = st.integers(min_value=0, max_value=15)
# Any set of extra closures (strikes, local holidays) must be skipped just like bank holidays.
calendars = st.sets(st.dates(min_value=FIRST.date(), max_value=LAST.date()), max_size=40).map(
    lambda extra: WorkingCalendar(bank_holidays=CALENDAR.bank_holidays | extra)
)


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    """Monday to Friday and not a holiday: said again here, not taken from the code under test."""
    return day.weekday() < 5 and day not in calendar.bank_holidays


def is_end_of_a_working_day(calendar: WorkingCalendar, due: datetime) -> bool:
    """17:00 on the London wall clock (whatever the UTC offset that day) on a working day."""
    local = due.astimezone(LONDON)
    return local.time() == time(17, 0) and is_working_day(calendar, local.date())


def previous_working_day(calendar: WorkingCalendar, due: datetime) -> date:
    day = due.astimezone(LONDON).date() - timedelta(days=1)
    while not is_working_day(calendar, day):
        day -= timedelta(days=1)
    return day


def working_days_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
    return sum(is_working_day(calendar, day) for day in days)


@given(calendar=calendars, triaged_at=moments)
def test_see_and_solve_is_due_at_the_end_of_the_first_working_day_not_yet_over(
    calendar: WorkingCalendar, triaged_at: datetime
) -> None:
    due = see_and_solve_due(calendar, triaged_at)
    assert due.tzinfo is UTC
    assert is_end_of_a_working_day(calendar, due)
    # The first working day still open: the one before it had ended by the time of triage.
    previous_end = datetime.combine(previous_working_day(calendar, due), time(17, 0), LONDON)
    assert previous_end <= triaged_at < due


@given(calendar=calendars, triaged_at=moments, days=working_days)
def test_first_contact_is_due_exactly_n_working_days_after_the_day_of_triage(
    calendar: WorkingCalendar, triaged_at: datetime, days: int
) -> None:
    due = first_contact_due(calendar, triaged_at, days)
    start = see_and_solve_due(calendar, triaged_at)  # the end of the day triage counts for
    assert is_end_of_a_working_day(calendar, due)
    assert (
        working_days_between(
            calendar, start.astimezone(LONDON).date(), due.astimezone(LONDON).date()
        )
        == days
    )


@given(calendar=calendars, earlier=moments, later=moments, days=working_days)
def test_due_times_never_go_backwards_when_triage_is_later(
    calendar: WorkingCalendar, earlier: datetime, later: datetime, days: int
) -> None:
    if later < earlier:
        earlier, later = later, earlier
    assert see_and_solve_due(calendar, earlier) <= see_and_solve_due(calendar, later)
    assert first_contact_due(calendar, earlier, days) <= first_contact_due(calendar, later, days)


@given(calendar=calendars, triaged_at=moments, days=working_days)
def test_one_more_working_day_is_one_working_day_later(
    calendar: WorkingCalendar, triaged_at: datetime, days: int
) -> None:
    due = first_contact_due(calendar, triaged_at, days)
    next_due = first_contact_due(calendar, triaged_at, days + 1)
    between = working_days_between(
        calendar, due.astimezone(LONDON).date(), next_due.astimezone(LONDON).date()
    )
    assert (next_due > due, between) == (True, 1)


@given(triaged_at=moments)
def test_the_due_hour_in_utc_follows_british_summer_time(triaged_at: datetime) -> None:
    due = see_and_solve_due(CALENDAR, triaged_at)
    summer = due.astimezone(LONDON).dst() != timedelta(0)
    assert due.hour == (16 if summer else 17)
