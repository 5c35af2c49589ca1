"""Tasks as disclosures: who may assign or withdraw one, and when a task's access ends."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import repository
from services.referrals.domain import TaskStatus
from services.referrals.domain.disclosure import TASK_STATUSES_WITHDRAWABLE, may_assign_task
from services.referrals.domain.sharing import may_access
from services.referrals.models import PartnerTask, Referral
from services.referrals.schemas import TaskWithdraw
from services.referrals.service.access import load_for_change, record_change
from shared.auth import Caller
from shared.problems import Conflict, Forbidden, NotFound


def require_task_decider(referral: Referral, caller: Caller) -> None:
    """403 unless the caller leads or coordinates the referral (see `domain.disclosure`)."""
    if not may_assign_task(
        caller.organisation,
        led_by=referral.lead_organisation,
        coordinated_by=referral.coordinating_organisation,
    ):
        raise Forbidden(
            "Only the lead organisation or the locality hub may give a partner a task on a "
            "referral (a task discloses it); a task or share holder may not pass it on."
        )


async def task_access_after_ending(
    session: AsyncSession, referral: Referral, task: PartnerTask
) -> dict[str, Any]:
    """History details for a task that ended: does its organisation keep any access?"""
    await session.flush()
    kept = may_access(task.organisation, await repository.involvement(session, referral))
    return {
        "task_id": task.id,
        "organisation": task.organisation,
        # Said outright so the history shows when a disclosure stopped, not only that it began.
        "access_ended": not kept,
    }


async def task_on(session: AsyncSession, referral: Referral, task_id: str) -> PartnerTask:
    """The referral's task with that id, or 404."""
    task = await repository.task(session, referral.id, task_id)
    if task is None:
        raise NotFound(f"No task '{task_id}' on this referral.")
    return task


async def withdraw_task(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    task_id: str,
    if_match: str | None,
    request: TaskWithdraw,
    now: datetime,
) -> tuple[Referral, PartnerTask]:
    """The lead or hub takes a task back; the partner's access ends with it."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        require_task_decider(referral, caller)
        task = await task_on(session, referral, task_id)
        if TaskStatus(task.status) not in TASK_STATUSES_WITHDRAWABLE:
            raise Conflict(
                f"The task is '{task.status}'; only an assigned or accepted task can be withdrawn.",
                status_now=task.status,
            )
        task.status = TaskStatus.WITHDRAWN.value
        task.withdrawn_at = now
        task.withdraw_reason = request.reason
        details = await task_access_after_ending(session, referral, task)
        record_change(session, referral, caller, "task_withdrawn", now, details=details)
    return referral, task
