"""Reads: one referral (audited), lists, history, tasks, notes, shares and the audit log."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import repository
from services.referrals.config import Settings
from services.referrals.domain import ReferralFilters, as_utc
from services.referrals.domain.disclosure import audit_is_system_wide
from services.referrals.models import (
    AuditRecord,
    CaseNote,
    HistoryEntry,
    PartnerTask,
    Referral,
    ReferralShare,
)
from services.referrals.service.access import audit_read, load_visible
from shared.auth import Caller
from shared.pagination import decode_created_cursor, decode_sequence_cursor, encode_cursor

Row = TypeVar("Row")


@dataclass(frozen=True)
class RepeatDemand:
    referral_ids: list[str]
    window_days: int


async def repeat_demand(
    session: AsyncSession, settings: Settings, referral: Referral
) -> RepeatDemand:
    """Earlier referrals for the same place or person within the locality's window."""
    window = settings.triage_policy().for_locality(referral.locality_code).repeat_window_days
    received_at = as_utc(referral.received_at)
    ids = await repository.earlier_referrals_for(
        session,
        uprn=referral.uprn,
        person_key=referral.person_key,
        since=received_at - timedelta(days=window),
        before=received_at,
        excluding=referral.id,
    )
    return RepeatDemand(ids, window)


async def read_referral(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    referral_id: str,
    purpose: str,
    now: datetime,
) -> tuple[Referral, RepeatDemand]:
    """A referral with its personal fields; the read is audited in the same transaction."""
    async with session.begin():
        referral = await load_visible(session, referral_id, caller)
        repeats = await repeat_demand(session, settings, referral)
        audit_read(session, referral.id, caller, "read_referral", purpose, now)
    return referral, repeats


async def read_status(session: AsyncSession, *, caller: Caller, referral_id: str) -> Referral:
    """A visible referral for its status only: no personal field is shown, so nothing to audit."""
    async with session.begin():
        return await load_visible(session, referral_id, caller)


async def _audited_read(
    session: AsyncSession,
    caller: Caller,
    referral_id: str,
    purpose: str,
    now: datetime,
    action: str,
    fetch: Callable[[AsyncSession, str], Awaitable[Sequence[Row]]],
) -> tuple[Referral, Sequence[Row]]:
    """Read part of a visible referral and audit the read, in one transaction."""
    async with session.begin():
        referral = await load_visible(session, referral_id, caller)
        rows = await fetch(session, referral.id)
        audit_read(session, referral.id, caller, action, purpose, now)
    return referral, rows


async def read_tasks(
    session: AsyncSession, *, caller: Caller, referral_id: str, purpose: str, now: datetime
) -> tuple[Referral, Sequence[PartnerTask]]:
    return await _audited_read(
        session, caller, referral_id, purpose, now, "read_tasks", repository.tasks
    )


async def read_notes(
    session: AsyncSession, *, caller: Caller, referral_id: str, purpose: str, now: datetime
) -> tuple[Referral, Sequence[CaseNote]]:
    return await _audited_read(
        session, caller, referral_id, purpose, now, "read_notes", repository.notes
    )


async def read_history(
    session: AsyncSession, *, caller: Caller, referral_id: str, purpose: str, now: datetime
) -> tuple[Referral, Sequence[HistoryEntry]]:
    return await _audited_read(
        session, caller, referral_id, purpose, now, "read_history", repository.history
    )


async def read_shares(
    session: AsyncSession, *, caller: Caller, referral_id: str
) -> tuple[Referral, Sequence[ReferralShare]]:
    async with session.begin():
        referral = await load_visible(session, referral_id, caller)
        shares = await repository.shares(session, referral.id)
    return referral, shares


async def list_referrals(
    session: AsyncSession,
    *,
    caller: Caller,
    filters: ReferralFilters,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> tuple[Sequence[Referral], str | None]:
    """The referrals the caller's organisation may see, newest first, one page."""
    keyset = decode_created_cursor(cursor)  # (received_at, id) of the last referral seen
    after = (as_utc(keyset[0]), keyset[1]) if keyset else None
    async with session.begin():
        # One SELECT is consistent on its own: no BEGIN and COMMIT round trips around it.
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        rows = await repository.list_visible(
            session,
            organisation=caller.organisation,
            filters=filters,
            now=now,
            after=after,
            limit=limit + 1,
        )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(as_utc(last.received_at).isoformat(), last.id)
    return page, next_cursor


async def list_audit(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str | None,
    organisation: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[AuditRecord], str | None]:
    """The caller's part of the audit log, oldest first (all of it for `admin`)."""
    scoped_to = None if audit_is_system_wide(caller.scopes) else caller.organisation
    after_seq = decode_sequence_cursor(cursor)
    async with session.begin():
        rows = await repository.audit_records(
            session,
            referral_id=referral_id,
            organisation=organisation,
            after_seq=after_seq,
            limit=limit + 1,
            scoped_to=scoped_to,
        )
    page = rows[:limit]
    return page, encode_cursor(page[-1].seq) if len(rows) > limit else None
