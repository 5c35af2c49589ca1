"""Multi-agency work: partner tasks, case notes and explicit sharing. One transaction each."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import events, repository
from services.referrals.domain import ReferralStatus, TaskStatus, outcome_needs_reason
from services.referrals.domain.lifecycle import Action, is_open
from services.referrals.domain.webhooks import WebhookEventType
from services.referrals.models import CaseNote, OutboxEvent, PartnerTask, Referral, ReferralShare
from services.referrals.schemas import (
    NoteCreate,
    ShareCreate,
    TaskComplete,
    TaskCreate,
    TaskDecline,
)
from services.referrals.service.access import load_for_change, move, record_change
from services.referrals.service.disclosure import (
    require_task_decider,
    task_access_after_ending,
    task_on,
)
from services.referrals.service.webhook_notices import notify_partners
from shared.auth import Caller
from shared.outbox import add_event
from shared.problems import Conflict, Forbidden, NotFound, Unprocessable


def _require_open(referral: Referral, doing: str) -> None:
    if not is_open(ReferralStatus(referral.status)):
        raise Conflict(
            f"Cannot {doing} on a referral that is '{referral.status}'; reopen it first.",
            status_now=referral.status,
        )


async def assign_task(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: TaskCreate,
    now: datetime,
) -> tuple[Referral, PartnerTask]:
    """Give a partner organisation a task on a triaged referral."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        if referral.status == ReferralStatus.RECEIVED:
            raise Conflict("Triage the referral before assigning tasks.", status_now="received")
        _require_open(referral, "assign a task")
        require_task_decider(referral, caller)
        _require_due_after_receipt(referral, request.due_at)
        task = PartnerTask(
            id=str(uuid.uuid4()),
            referral_id=referral.id,
            organisation=request.organisation,
            description=request.description,
            status=TaskStatus.ASSIGNED.value,
            due_at=request.due_at,
            assigned_at=now,
            assigned_by_subject=caller.subject,
            assigned_by_organisation=caller.organisation,
            purpose=request.purpose,
            lawful_basis=request.lawful_basis.value,
            sharing_agreement_ref=request.sharing_agreement_ref,
        )
        repository.add(session, task)
        record_change(
            session,
            referral,
            caller,
            "task_assigned",
            now,
            details={
                "task_id": task.id,
                "organisation": task.organisation,
                "purpose": task.purpose,
                "lawful_basis": task.lawful_basis,
            },
        )
        add_event(session, OutboxEvent, events.task_assigned(referral, task, caller.organisation))
        await notify_partners(
            session,
            referral,
            WebhookEventType.TASK_ASSIGNED,
            now,
            addressee=task.organisation,
            task_id=task.id,
        )
    return referral, task


def _require_due_after_receipt(referral: Referral, due_at: datetime | None) -> None:
    """A task cannot fall due before the referral that asks for it was received."""
    if due_at is not None and due_at < referral.received_at:
        received = referral.received_at.isoformat()
        raise Unprocessable(
            f"The task would be due before the referral was received ({received}).",
            errors=[{"field": "due_at", "message": f"must not be before {received}"}],
        )


async def _load_task_for_holder(
    session: AsyncSession,
    referral: Referral,
    task_id: str,
    caller: Caller,
    allowed_from: TaskStatus,
) -> PartnerTask:
    task = await task_on(session, referral, task_id)
    if task.organisation != caller.organisation:
        raise Forbidden(f"Only {task.organisation} can act on this task.")
    if task.status != allowed_from:
        raise Conflict(
            f"The task is '{task.status}'; this needs a task that is '{allowed_from.value}'.",
            status_now=task.status,
        )
    return task


def _partner_made_contact(
    session: AsyncSession, referral: Referral, caller: Caller, now: datetime
) -> None:
    """The first partner contact stops the multi-agency clock and starts the work."""
    if referral.due_at is not None and referral.clock_stopped_at is None:
        referral.clock_stopped_at = now
    if referral.status == ReferralStatus.TRIAGED:
        before, after = move(referral, Action.START)
        record_change(
            session,
            referral,
            caller,
            "started",
            now,
            from_status=before,
            to_status=after,
            new_version=False,
        )


async def accept_task(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    task_id: str,
    if_match: str | None,
    now: datetime,
) -> tuple[Referral, PartnerTask]:
    """The assigned organisation takes the task on: this is the first partner contact."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        _require_open(referral, "accept a task")
        task = await _load_task_for_holder(session, referral, task_id, caller, TaskStatus.ASSIGNED)
        task.status = TaskStatus.ACCEPTED.value
        task.accepted_at = now
        _partner_made_contact(session, referral, caller, now)
        record_change(session, referral, caller, "task_accepted", now, details={"task_id": task.id})
    return referral, task


async def decline_task(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    task_id: str,
    if_match: str | None,
    request: TaskDecline,
    now: datetime,
) -> tuple[Referral, PartnerTask]:
    """The assigned organisation declines the task, saying why."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        task = await _load_task_for_holder(session, referral, task_id, caller, TaskStatus.ASSIGNED)
        task.status = TaskStatus.DECLINED.value
        task.declined_at = now
        task.decline_reason = request.reason
        details = await task_access_after_ending(session, referral, task)
        record_change(session, referral, caller, "task_declined", now, details=details)
    return referral, task


async def complete_task(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    task_id: str,
    if_match: str | None,
    request: TaskComplete,
    now: datetime,
) -> tuple[Referral, PartnerTask]:
    """The assigned organisation finishes an accepted task with a structured outcome."""
    if outcome_needs_reason(request.outcome_code) and not (request.note or "").strip():
        raise Unprocessable(
            f"Outcome '{request.outcome_code.value}' needs a note saying why.",
            errors=[{"field": "note", "message": "required when the outcome is not successful"}],
        )
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        task = await _load_task_for_holder(session, referral, task_id, caller, TaskStatus.ACCEPTED)
        task.status = TaskStatus.COMPLETED.value
        task.completed_at = now
        task.outcome_code = request.outcome_code.value
        task.outcome_note = request.note
        record_change(
            session,
            referral,
            caller,
            "task_completed",
            now,
            details={"task_id": task.id, "outcome_code": task.outcome_code},
        )
        add_event(session, OutboxEvent, events.task_completed(referral, task, caller.organisation))
    return referral, task


async def add_note(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: NoteCreate,
    now: datetime,
) -> tuple[Referral, CaseNote]:
    """Add a case note to a referral that is not closed."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        if referral.status == ReferralStatus.CLOSED:
            raise Conflict("The referral is closed; reopen it to add notes.", status_now="closed")
        note = CaseNote(
            id=str(uuid.uuid4()),
            referral_id=referral.id,
            text=request.text,
            written_at=now,
            author_subject=caller.subject,
            author_organisation=caller.organisation,
        )
        repository.add(session, note)
        record_change(session, referral, caller, "note_added", now, details={"note_id": note.id})
    return referral, note


async def share_referral(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    if_match: str | None,
    request: ShareCreate,
    now: datetime,
) -> tuple[Referral, ReferralShare]:
    """Share a referral with another organisation, for a stated purpose and lawful basis."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        _require_owner(referral, caller)
        if await repository.share_with(session, referral.id, request.organisation):
            raise Conflict(f"The referral is already shared with {request.organisation}.")
        share = ReferralShare(
            id=str(uuid.uuid4()),
            referral_id=referral.id,
            organisation=request.organisation,
            purpose=request.purpose,
            lawful_basis=request.lawful_basis.value,
            sharing_agreement_ref=request.sharing_agreement_ref,
            shared_at=now,
            shared_by_subject=caller.subject,
            shared_by_organisation=caller.organisation,
        )
        repository.add(session, share)
        record_change(
            session,
            referral,
            caller,
            "shared",
            now,
            details={"organisation": share.organisation, "lawful_basis": share.lawful_basis},
        )
        add_event(
            session, OutboxEvent, events.referral_shared(referral, share, caller.organisation)
        )
        await notify_partners(
            session, referral, WebhookEventType.REFERRAL_SHARED, now, addressee=share.organisation
        )
    return referral, share


def _require_owner(referral: Referral, caller: Caller) -> None:
    owners = {
        referral.created_by_organisation,
        referral.coordinating_organisation,
        referral.lead_organisation,
    }
    if caller.organisation not in owners:
        raise Forbidden(
            "Only the organisation that made, coordinates or leads a referral may share it."
        )


async def revoke_share(
    session: AsyncSession,
    *,
    caller: Caller,
    referral_id: str,
    organisation: str,
    if_match: str | None,
    now: datetime,
) -> Referral:
    """Stop sharing a referral with an organisation; the share stays in the history."""
    async with session.begin():
        referral = await load_for_change(session, referral_id, caller, if_match)
        _require_owner(referral, caller)
        share = await repository.share_with(session, referral.id, organisation)
        if share is None:
            raise NotFound(f"The referral is not shared with {organisation}.")
        await session.delete(share)
        record_change(
            session,
            referral,
            caller,
            "share_revoked",
            now,
            details={"organisation": organisation, "shared_at": share.shared_at.isoformat()},
        )
        add_event(
            session,
            OutboxEvent,
            events.share_revoked(referral, organisation, caller.organisation, now),
        )
        await notify_partners(
            session,
            referral,
            WebhookEventType.REFERRAL_SHARE_WITHDRAWN,
            now,
            addressee=organisation,
        )
    return referral
