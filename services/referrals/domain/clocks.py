"""Working-day clocks: when a see-and-solve referral or a first partner contact falls due.

All arithmetic happens on the local calendar (Europe/London by default) and is converted to
UTC at the end, so a due time is right on both sides of a clock change.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.referrals.domain import ClockName, Track

MONDAY_TO_FRIDAY = frozenset(range(5))


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours, working weekdays and bank holidays of the teams that run the clocks."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    day_starts: time = time(9, 0)
    day_ends: time = time(17, 0)
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    bank_holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.day_starts >= self.day_ends:
            raise ValueError("the working day must start before it ends")
        if not self.weekdays:
            raise ValueError("at least one weekday must be a working day")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.bank_holidays

    def end_of(self, day: date) -> datetime:
        """The UTC instant at which the working day `day` ends."""
        return datetime.combine(day, self.day_ends, tzinfo=self.timezone).astimezone(UTC)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def working_day_of(self, moment: datetime) -> date:
        """The working day a moment counts towards.

        A moment on a working day before it ends counts for that day (arriving before opening
        is handled that morning); after it ends, or on a weekend or bank holiday, it counts
        for the next working day.
        """
        local = moment.astimezone(self.timezone)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.day_ends:
            return day
        return self.next_working_day(day)

    def add_working_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day


def see_and_solve_due(calendar: WorkingCalendar, triaged_at: datetime) -> datetime:
    """Due by the end of the working day on which the referral was triaged."""
    return calendar.end_of(calendar.working_day_of(triaged_at))


def first_contact_due(
    calendar: WorkingCalendar, triaged_at: datetime, working_days: int
) -> datetime:
    """Due by the end of the `working_days`-th working day after the day of triage."""
    if working_days < 0:
        raise ValueError("working_days cannot be negative")
    start = calendar.working_day_of(triaged_at)
    return calendar.end_of(calendar.add_working_days(start, working_days))


def clock_for_track(
    calendar: WorkingCalendar, track: Track, triaged_at: datetime, first_contact_days: int
) -> tuple[ClockName, datetime] | None:
    """The clock a track starts at triage, if any, and when it falls due."""
    if track is Track.SEE_AND_SOLVE:
        return ClockName.SEE_AND_SOLVE, see_and_solve_due(calendar, triaged_at)
    if track is Track.MULTI_AGENCY:
        return ClockName.FIRST_PARTNER_CONTACT, first_contact_due(
            calendar, triaged_at, first_contact_days
        )
    return None


def is_overdue(due_at: datetime | None, stopped_at: datetime | None, now: datetime) -> bool:
    """A running clock whose due time has passed."""
    return due_at is not None and stopped_at is None and now > due_at


def resolved_within_due(
    clock: str | None, due_at: datetime | None, resolved_at: datetime
) -> bool | None:
    """For see-and-solve: resolved by the end of the working day it was triaged? Else None."""
    if clock != ClockName.SEE_AND_SOLVE or due_at is None:
        return None
    return resolved_at <= due_at


def parse_bank_holidays(values: Iterable[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(value) for value in values)
