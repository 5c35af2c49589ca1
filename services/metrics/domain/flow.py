"""Referral flow over a period: what came in, how it was triaged, how fast it was resolved.

Counts add up across localities, so an authority's flow is the sum of its localities' (shares
and the median are computed again from the summed parts, never averaged).
"""

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReferralFlow:
    """One area's referral facts for a period (received, triaged, resolved in it)."""

    area_code: str
    received_by_channel: dict[str, int] = field(default_factory=dict)
    # A referral may have several categories, so these can add up to more than `received`.
    received_by_category: dict[str, int] = field(default_factory=dict)
    triaged_by_track: dict[str, int] = field(default_factory=dict)
    see_and_solve_resolved: int = 0  # see-and-solve resolved in the period with a due time
    see_and_solve_within_day: int = 0
    overdue: int = 0
    resolution_days: tuple[float, ...] = ()

    @property
    def received(self) -> int:
        return sum(self.received_by_channel.values())

    @property
    def see_and_solve(self) -> int:
        return self.triaged_by_track.get("see_and_solve", 0)

    @property
    def multi_agency(self) -> int:
        return self.triaged_by_track.get("multi_agency", 0)

    @property
    def see_and_solve_share(self) -> float | None:
        """Percent of referrals triaged to see-and-solve, of the two main tracks."""
        both = self.see_and_solve + self.multi_agency
        return 100.0 * self.see_and_solve / both if both else None

    @property
    def multi_agency_share(self) -> float | None:
        both = self.see_and_solve + self.multi_agency
        return 100.0 * self.multi_agency / both if both else None

    @property
    def within_day_share(self) -> float | None:
        if not self.see_and_solve_resolved:
            return None
        return 100.0 * self.see_and_solve_within_day / self.see_and_solve_resolved

    @property
    def median_days_to_resolution(self) -> float | None:
        return statistics.median(self.resolution_days) if self.resolution_days else None


def combine(area_code: str, parts: Iterable[ReferralFlow]) -> ReferralFlow:
    """The flow of an area made of `parts` (an authority of its localities)."""
    channels: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    tracks: Counter[str] = Counter()
    resolved = within = overdue = 0
    days: list[float] = []
    for part in parts:
        channels.update(part.received_by_channel)
        categories.update(part.received_by_category)
        tracks.update(part.triaged_by_track)
        resolved += part.see_and_solve_resolved
        within += part.see_and_solve_within_day
        overdue += part.overdue
        days.extend(part.resolution_days)
    return ReferralFlow(
        area_code=area_code,
        received_by_channel=dict(sorted(channels.items())),
        received_by_category=dict(sorted(categories.items())),
        triaged_by_track=dict(sorted(tracks.items())),
        see_and_solve_resolved=resolved,
        see_and_solve_within_day=within,
        overdue=overdue,
        resolution_days=tuple(sorted(days)),
    )
