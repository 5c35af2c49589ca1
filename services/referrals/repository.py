"""Every query of the referrals service."""

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from services.referrals.domain import ReferralFilters
from services.referrals.domain.disclosure import (
    TASK_STATUSES_GRANTING_ACCESS,
    TASK_STATUSES_WITHDRAWABLE,
)
from services.referrals.domain.sharing import Involvement
from services.referrals.models import (
    AuditRecord,
    CaseNote,
    HistoryEntry,
    IdempotencyRecord,
    PartnerTask,
    ReferenceCounter,
    Referral,
    ReferralCategory,
    ReferralShare,
)
from shared.db import dialect_name


async def get(
    session: AsyncSession, referral_id: str, *, for_update: bool = False
) -> Referral | None:
    if not for_update:
        return await session.get(Referral, referral_id)
    # The row lock serialises concurrent changes on PostgreSQL; SQLite has one writer anyway.
    return await session.scalar(
        select(Referral).where(Referral.id == referral_id).with_for_update()
    )


def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)


async def reserve_reference_numbers(
    session: AsyncSession, locality_code: str, year: int, count: int
) -> int:
    """Reserve `count` numbers for a locality and year; returns the last one reserved.

    Run it in a transaction of its own (service/references.py): the row lock is held until
    that transaction commits.
    """
    insert = postgresql_insert if dialect_name(session) == "postgresql" else sqlite_insert
    await session.execute(
        insert(ReferenceCounter)
        .values(locality_code=locality_code, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["locality_code", "year"])
    )
    number = await session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.locality_code == locality_code, ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + count)
        .returning(ReferenceCounter.last_number)
    )
    assert number is not None
    return number


async def involvement(session: AsyncSession, referral: Referral) -> Involvement:
    task_holders = await session.scalars(
        select(PartnerTask.organisation).where(
            PartnerTask.referral_id == referral.id, _task_grants_access()
        )
    )
    shared_with = await session.scalars(
        select(ReferralShare.organisation).where(ReferralShare.referral_id == referral.id)
    )
    return Involvement(
        created_by=referral.created_by_organisation,
        coordinated_by=referral.coordinating_organisation,
        led_by=referral.lead_organisation,
        task_holders=set(task_holders),
        shared_with=set(shared_with),
    )


def _task_grants_access() -> ColumnElement[bool]:
    """The SQL form of `domain.disclosure.task_grants_access`."""
    # One bound value per status rather than an expanding IN: that one is rendered again at
    # every execution of an otherwise cached statement.
    return PartnerTask.status.in_(
        [literal(status.value) for status in TASK_STATUSES_GRANTING_ACCESS]
    )


def visible_to(organisation: str | BindParameter[str]) -> ColumnElement[bool]:
    """The SQL form of `domain.sharing.may_access`."""
    return or_(
        Referral.created_by_organisation == organisation,
        Referral.coordinating_organisation == organisation,
        Referral.lead_organisation == organisation,
        exists().where(
            PartnerTask.referral_id == Referral.id,
            PartnerTask.organisation == organisation,
            _task_grants_access(),
        ),
        exists().where(
            ReferralShare.referral_id == Referral.id, ReferralShare.organisation == organisation
        ),
    )


# A list shows no personal fields: not loading them saves decoding JSON per row, and
# raiseload turns any later use of one into an error rather than a query per row.
LIST_DEFERRED = [
    defer(column, raiseload=True)
    for column in (
        Referral.description,
        Referral.referrer,
        Referral.subject_person,
        Referral.place_address,
        Referral.place_postcode,
        Referral.latitude,
        Referral.longitude,
        Referral.repeat_of,
        Referral.triage_rationale,
        Referral.outcome_reason,
    )
]


def _overdue(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return and_(
        Referral.due_at.is_not(None), Referral.clock_stopped_at.is_(None), Referral.due_at < now
    )


# The filters a list may give, each a named parameter of the list query.
_LIST_FILTERS = (
    "locality_code",
    "status",
    "track",
    "category_code",
    "received_from",
    "received_to",
)


@functools.cache
def _list_query(given: frozenset[str], overdue: bool | None, after: bool) -> Select[Referral]:
    """The list query for one combination of filters, built once with every value a named
    parameter: building its subqueries and their cache key again for every list read cost more
    CPU than running it (py-spy, 32 concurrent reads). At most 2^6 x 3 x 2 statements."""
    query = (
        select(Referral)
        .options(*LIST_DEFERRED)
        .where(visible_to(bindparam("organisation", type_=String)))
    )
    if "locality_code" in given:
        query = query.where(Referral.locality_code == bindparam("locality_code"))
    if "status" in given:
        query = query.where(Referral.status == bindparam("status"))
    if "track" in given:
        query = query.where(Referral.track == bindparam("track"))
    if "category_code" in given:
        query = query.where(
            exists().where(
                ReferralCategory.referral_id == Referral.id,
                ReferralCategory.category_code == bindparam("category_code"),
            )
        )
    if overdue is True:
        query = query.where(_overdue(bindparam("now")))
    elif overdue is False:
        query = query.where(~_overdue(bindparam("now")))
    if "received_from" in given:
        query = query.where(Referral.received_at >= bindparam("received_from"))
    if "received_to" in given:
        query = query.where(Referral.received_at < bindparam("received_to"))
    if after:
        received_at: BindParameter[datetime] = bindparam("after_received_at")
        referral_id: BindParameter[str] = bindparam("after_id")
        query = query.where(
            or_(
                Referral.received_at < received_at,
                and_(Referral.received_at == received_at, Referral.id < referral_id),
            )
        )
    order = (Referral.received_at.desc(), Referral.id.desc())
    return query.order_by(*order).limit(bindparam("limit", type_=Integer))


async def list_visible(
    session: AsyncSession,
    *,
    organisation: str,
    filters: ReferralFilters,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Referral]:
    """Newest first, keyset-paginated on (received_at, id); without the personal fields."""
    values: dict[str, Any] = {
        name: getattr(filters, name) for name in _LIST_FILTERS if getattr(filters, name)
    }
    query = _list_query(frozenset(values), filters.overdue, after is not None)
    values |= {"organisation": organisation, "limit": limit}
    if filters.overdue is not None:
        values["now"] = now
    if after:
        values["after_received_at"], values["after_id"] = after
    return (await session.scalars(query, values)).all()


async def referrals_after(
    session: AsyncSession,
    *,
    after_id: str | None,
    limit: int,
    received_since: datetime | None,
    locality_code: str | None,
) -> Sequence[Referral]:
    """A page of referrals in id order (keyset), without the personal fields."""
    query = select(Referral).options(*LIST_DEFERRED).order_by(Referral.id).limit(limit)
    if after_id is not None:
        query = query.where(Referral.id > after_id)
    if received_since is not None:
        query = query.where(Referral.received_at >= received_since)
    if locality_code is not None:
        query = query.where(Referral.locality_code == locality_code)
    return (await session.scalars(query)).all()


async def earlier_referrals_for(
    session: AsyncSession,
    *,
    uprn: str | None,
    person_key: str | None,
    since: datetime,
    before: datetime,
    excluding: str | None = None,
) -> list[str]:
    """Ids of referrals about the same place or person received in [since, before)."""
    matches = []
    if uprn:
        matches.append(Referral.uprn == uprn)
    if person_key:
        matches.append(Referral.person_key == person_key)
    if not matches:
        return []
    query = select(Referral.id).where(
        or_(*matches), Referral.received_at >= since, Referral.received_at < before
    )
    if excluding:
        query = query.where(Referral.id != excluding)
    return list(await session.scalars(query.order_by(Referral.received_at)))


async def history(session: AsyncSession, referral_id: str) -> Sequence[HistoryEntry]:
    query = select(HistoryEntry).where(HistoryEntry.referral_id == referral_id)
    return (await session.scalars(query.order_by(HistoryEntry.seq))).all()


async def tasks(session: AsyncSession, referral_id: str) -> Sequence[PartnerTask]:
    query = select(PartnerTask).where(PartnerTask.referral_id == referral_id)
    return (await session.scalars(query.order_by(PartnerTask.seq))).all()


async def task(session: AsyncSession, referral_id: str, task_id: str) -> PartnerTask | None:
    return await session.scalar(
        select(PartnerTask).where(PartnerTask.id == task_id, PartnerTask.referral_id == referral_id)
    )


async def notes(session: AsyncSession, referral_id: str) -> Sequence[CaseNote]:
    query = select(CaseNote).where(CaseNote.referral_id == referral_id)
    return (await session.scalars(query.order_by(CaseNote.seq))).all()


async def shares(session: AsyncSession, referral_id: str) -> Sequence[ReferralShare]:
    query = select(ReferralShare).where(ReferralShare.referral_id == referral_id)
    return (await session.scalars(query.order_by(ReferralShare.shared_at))).all()


async def share_with(
    session: AsyncSession, referral_id: str, organisation: str
) -> ReferralShare | None:
    return await session.scalar(
        select(ReferralShare).where(
            ReferralShare.referral_id == referral_id, ReferralShare.organisation == organisation
        )
    )


async def audit_records(
    session: AsyncSession,
    *,
    referral_id: str | None,
    organisation: str | None,
    after_seq: int | None,
    limit: int,
    scoped_to: str | None,
) -> Sequence[AuditRecord]:
    """Audit rows, oldest first; `scoped_to` an organisation keeps only its part of the log."""
    query = select(AuditRecord)
    if scoped_to is not None:
        controlled = select(Referral.id).where(
            or_(
                Referral.created_by_organisation == scoped_to,
                Referral.coordinating_organisation == scoped_to,
                Referral.lead_organisation == scoped_to,
            )
        )
        query = query.where(
            or_(
                AuditRecord.actor_organisation == scoped_to,
                AuditRecord.referral_id.in_(controlled),
            )
        )
    if referral_id:
        query = query.where(AuditRecord.referral_id == referral_id)
    if organisation:
        query = query.where(AuditRecord.actor_organisation == organisation)
    if after_seq is not None:
        query = query.where(AuditRecord.seq > after_seq)
    return (await session.scalars(query.order_by(AuditRecord.seq).limit(limit))).all()


async def idempotency_record(
    session: AsyncSession, organisation: str, key: str
) -> IdempotencyRecord | None:
    return await session.get(IdempotencyRecord, (organisation, key))


async def clocks_past_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Referral]:
    """Running clocks past their due time that nobody has been told about yet."""
    query = (
        select(Referral)
        .where(_overdue(now), Referral.overdue_notified_at.is_(None))
        .order_by(Referral.due_at)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        # Two instances checking at once each take different rows.
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query)).all()


async def claim_overdue_notification(
    session: AsyncSession, referral_id: str, now: datetime
) -> bool:
    """Set the notified flag if nobody has; True when this transaction set it."""
    result = await session.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.overdue_notified_at.is_(None))
        .values(overdue_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def tasks_past_due(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[PartnerTask, Referral]]:
    """Open partner tasks past their due time whose holder has not been told yet."""
    query = (
        select(PartnerTask, Referral)
        .join(Referral, Referral.id == PartnerTask.referral_id)
        .where(
            PartnerTask.overdue_notified_at.is_(None),
            PartnerTask.due_at <= now,
            # Still open: assigned or accepted (the statuses a lead may withdraw).
            PartnerTask.status.in_([s.value for s in TASK_STATUSES_WITHDRAWABLE]),
        )
        .order_by(PartnerTask.due_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def claim_task_overdue_notification(
    session: AsyncSession, task_seq: int, now: datetime
) -> bool:
    """Set the task's notified flag if nobody has; True when this transaction set it."""
    result = await session.execute(
        update(PartnerTask)
        .where(PartnerTask.seq == task_seq, PartnerTask.overdue_notified_at.is_(None))
        .values(overdue_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
