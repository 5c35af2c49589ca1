"""Queries of the referral flow: the facts of a period, per locality, in five GROUP BYs.

A period is [start, end): a fact counts when its moment (received, triaged, resolved, overdue)
falls inside it. The caller clips `end` to the as-at time, so what happened later is unknown.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.flow import ReferralFlow
from services.metrics.models import ReferralFact, ReferralFactCategory
from services.metrics.repository.facts import SEE_AND_SOLVE


def _within(column: Any, start: datetime, end: datetime) -> Any:
    return (column >= start) & (column < end)


async def referral_flow(
    session: AsyncSession,
    *,
    locality_codes: Sequence[str],
    start: datetime,
    end: datetime,
    channel: str | None = None,
) -> dict[str, ReferralFlow]:
    """Each locality's flow in [start, end), optionally for one channel only."""
    fact = ReferralFact
    scope: list[Any] = [fact.locality_code.in_(locality_codes)]
    if channel:
        scope.append(fact.channel == channel)
    received = await session.execute(
        select(fact.locality_code, fact.channel, func.count())
        .where(*scope, _within(fact.received_at, start, end))
        .group_by(fact.locality_code, fact.channel)
    )
    categories = await session.execute(
        select(fact.locality_code, ReferralFactCategory.category_code, func.count())
        .join(ReferralFactCategory, ReferralFactCategory.referral_id == fact.referral_id)
        .where(*scope, _within(fact.received_at, start, end))
        .group_by(fact.locality_code, ReferralFactCategory.category_code)
    )
    triaged = await session.execute(
        select(fact.locality_code, fact.track, func.count())
        .where(*scope, fact.track.is_not(None), _within(fact.triaged_at, start, end))
        .group_by(fact.locality_code, fact.track)
    )
    within_day = func.sum(case((fact.within_due.is_(True), 1), else_=0))
    same_day = await session.execute(
        select(fact.locality_code, func.count(), within_day)
        .where(
            *scope,
            fact.track == SEE_AND_SOLVE,
            fact.within_due.is_not(None),
            _within(fact.resolved_at, start, end),
        )
        .group_by(fact.locality_code)
    )
    overdue = await session.execute(
        select(fact.locality_code, func.count())
        .where(*scope, _within(fact.overdue_at, start, end))
        .group_by(fact.locality_code)
    )
    durations = await session.execute(
        select(fact.locality_code, fact.resolution_days).where(
            *scope, fact.resolution_days.is_not(None), _within(fact.resolved_at, start, end)
        )
    )
    parts: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "channels": {},
            "categories": {},
            "tracks": {},
            "resolved": 0,
            "within": 0,
            "overdue": 0,
            "days": [],
        }
    )
    for code, channel_code, n in received.all():
        parts[code]["channels"][channel_code] = int(n)
    for code, category, n in categories.all():
        parts[code]["categories"][category] = int(n)
    for code, track, n in triaged.all():
        parts[code]["tracks"][track] = int(n)
    for code, n, within in same_day.all():
        parts[code]["resolved"], parts[code]["within"] = int(n), int(within or 0)
    for code, n in overdue.all():
        parts[code]["overdue"] = int(n)
    for code, days in durations.all():
        parts[code]["days"].append(float(days or 0))
    return {
        code: ReferralFlow(
            area_code=code,
            received_by_channel=dict(sorted(parts[code]["channels"].items())),
            received_by_category=dict(sorted(parts[code]["categories"].items())),
            triaged_by_track=dict(sorted(parts[code]["tracks"].items())),
            see_and_solve_resolved=parts[code]["resolved"],
            see_and_solve_within_day=parts[code]["within"],
            overdue=parts[code]["overdue"],
            resolution_days=tuple(sorted(parts[code]["days"])),
        )
        for code in locality_codes
    }
