"""Re-announce every referral's current state, for consumers to rebuild what they derive.

The outbox keeps published events for a retention window and `outbox republish` sends those
again; this is for when that is not enough: events older than the retention, or a consumer
whose database came back from an old backup. Each referral gets one `state_announced` event
carrying its whole current state (ids, codes and times only), and consumers replace their
facts with it. Announcing twice is harmless: the second state equals the first.

Unlike a request's use case this writes in pages, one transaction each: a locality's whole
history in one transaction would hold its locks and its memory for minutes. A page is atomic,
so an interrupted run leaves whole pages announced and can simply be run again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals import events, repository
from services.referrals.models import OutboxEvent
from services.referrals.service.casework import within_due
from shared.clock import system_clock
from shared.outbox import add_event

PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Announcement:
    referrals: int
    pages: int


async def announce_referral_states(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: Callable[[], datetime],
    received_since: datetime | None = None,
    locality_code: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Announcement:
    """Write one `state_announced` event per matching referral to the outbox; returns counts."""
    after_id: str | None = None
    announced = pages = 0
    while True:
        async with sessions() as session, session.begin():
            page = await repository.referrals_after(
                session,
                after_id=after_id,
                limit=page_size,
                received_since=received_since,
                locality_code=locality_code,
            )
            for referral in page:
                resolved = within_due(referral) if referral.resolved_at is not None else None
                add_event(
                    session, OutboxEvent, events.referral_state_announced(referral, resolved, now())
                )
        if not page:
            return Announcement(referrals=announced, pages=pages)
        announced, pages, after_id = announced + len(page), pages + 1, page[-1].id


async def announce_states_now(
    sessions: async_sessionmaker[AsyncSession],
    *,
    received_since: datetime | None,
    locality_code: str | None,
) -> int:
    """`outbox announce-state` of the referrals service: announced now, by the system clock."""
    announcement = await announce_referral_states(
        sessions, now=system_clock, received_since=received_since, locality_code=locality_code
    )
    return announcement.referrals
