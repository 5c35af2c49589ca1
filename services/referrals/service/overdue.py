"""Clocks past due: each referral's clock, and each open partner task past its due time, is
announced overdue exactly once."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals import events, repository
from services.referrals.domain import as_utc
from services.referrals.domain.webhooks import WebhookEventType
from services.referrals.models import OutboxEvent
from services.referrals.service.access import record_change
from services.referrals.service.webhook_notices import notify_partners
from shared import metrics
from shared.outbox import add_event

BATCH_SIZE = 200


async def notify_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Flag every running clock past due and emit its `overdue` event; returns how many.

    The flag and the outbox row commit together, and the flag is only set where it was unset,
    so concurrent checkers and restarts never announce one clock twice.
    """
    notified = 0
    while True:
        async with session.begin():
            due = await repository.clocks_past_due(session, now, BATCH_SIZE)
            for referral in due:
                due_at = referral.due_at
                if due_at is None or not await repository.claim_overdue_notification(
                    session, referral.id, now
                ):
                    continue
                record_change(
                    session,
                    referral,
                    None,
                    "overdue",
                    now,
                    details={"clock": referral.clock, "due_at": as_utc(due_at).isoformat()},
                    new_version=False,
                )
                add_event(session, OutboxEvent, events.referral_overdue(referral, now))
                await notify_partners(session, referral, WebhookEventType.REFERRAL_OVERDUE, now)
                notified += 1
        if len(due) < BATCH_SIZE:
            metrics.overdue_breached("referral_clock", notified)
            return notified


async def notify_overdue_tasks(session: AsyncSession, *, now: datetime) -> int:
    """Flag every open partner task past due, emit its event and tell its holder's webhooks."""
    notified = 0
    while True:
        async with session.begin():
            due = await repository.tasks_past_due(session, now, BATCH_SIZE)
            for task, referral in due:
                if task.due_at is None or not await repository.claim_task_overdue_notification(
                    session, task.seq, now
                ):
                    continue
                record_change(
                    session,
                    referral,
                    None,
                    "task_overdue",
                    now,
                    details={"task_id": task.id, "due_at": as_utc(task.due_at).isoformat()},
                    new_version=False,
                )
                add_event(session, OutboxEvent, events.task_overdue(referral, task, now))
                await notify_partners(
                    session,
                    referral,
                    WebhookEventType.TASK_OVERDUE,
                    now,
                    addressee=task.organisation,
                    task_id=task.id,
                )
                notified += 1
        if len(due) < BATCH_SIZE:
            metrics.overdue_breached("partner_task", notified)
            return notified


async def check_overdue(
    sessions: async_sessionmaker[AsyncSession], settings: object, now: datetime
) -> int:
    """One round of the periodic overdue check (a PeriodicJob on the ServiceSpec)."""
    async with sessions() as session:
        notified = await notify_overdue(session, now=now)
        return notified + await notify_overdue_tasks(session, now=now)
