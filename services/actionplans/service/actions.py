"""Action use cases: add, change (enforced status transitions), note progress, list, and the
periodic check that announces each action passing its due date once."""

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.actionplans import domain, events, repository
from services.actionplans.config import Settings
from services.actionplans.models import Action, ActionNote, OutboxEvent, Plan
from services.actionplans.schemas import (
    ActionCreate,
    ActionNoteCreate,
    ActionUpdate,
)
from services.actionplans.service.guards import (
    changed_fields,
    ensure_transition,
    local_today,
    plan_or_404,
    plan_to_change,
    record_change,
    reject_nulls,
)
from shared import metrics
from shared.auth import Caller
from shared.etag import ensure_version
from shared.outbox import add_event
from shared.pagination import PageOf, decode_created_cursor, page_by_creation
from shared.problems import NotFound, Unprocessable

log = logging.getLogger(__name__)


def _ensure_owner_in_group(plan: Plan, owner: str) -> None:
    """The owner must be able to update its own action, so it must be in the working group."""
    if owner not in plan.organisations():
        raise Unprocessable(
            f"Organisation '{owner}' is not in this plan's working group; add it as a member "
            "first.",
            errors=[
                {
                    "field": "owner_organisation",
                    "message": f"one of: {', '.join(sorted(plan.organisations()))}",
                }
            ],
        )


@dataclass(frozen=True)
class ActionWithNotes:
    action: Action
    notes: list[ActionNote]


async def create_action(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    caller: Caller,
    plan_id: str,
    request: ActionCreate,
) -> Action:
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        _ensure_owner_in_group(plan, request.owner_organisation)
        action = Action(
            id=str(uuid.uuid4()),
            plan_id=plan.id,
            description=request.description,
            owner_organisation=request.owner_organisation,
            due_on=request.due_on,
            status=request.status.value,
            referral_ids=list(dict.fromkeys(request.referral_ids)),
            created_at=now,
            updated_at=now,
        )
        repository.add(session, action)
        await session.flush()
        record_change(
            session,
            plan,
            change="action.created",
            entity_id=action.id,
            caller=caller,
            at=now,
            details=request.model_dump(mode="json"),
        )
        add_event(session, OutboxEvent, events.action_created(plan, action, caller.organisation))
    return action


async def update_action(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    caller: Caller,
    plan_id: str,
    action_id: str,
    expected_version: int | None,
    request: ActionUpdate,
) -> Action:
    """Change an action against the version read; status changes follow the lifecycle."""
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        action = await _action_or_404(session, plan_id, action_id)
        ensure_version(action.version, expected_version)
        updates = request.model_dump(exclude_unset=True, mode="python")
        reject_nulls(updates, ("description", "owner_organisation", "status", "referral_ids"))
        if "owner_organisation" in updates:
            _ensure_owner_in_group(plan, updates["owner_organisation"])
        if "referral_ids" in updates:
            updates["referral_ids"] = list(dict.fromkeys(updates["referral_ids"]))
        previous_status = action.status
        if "status" in updates:
            updates["status"] = updates["status"].value
            if updates["status"] != action.status:
                ensure_transition(domain.check_action_transition, action.status, updates["status"])
        changes = changed_fields(action, updates)
        if changes:
            action.updated_at = now
            record_change(
                session,
                plan,
                change="action.updated",
                entity_id=action.id,
                caller=caller,
                at=now,
                details=changes,
            )
            if action.status != previous_status:
                add_event(
                    session,
                    OutboxEvent,
                    events.action_status_changed(
                        plan, action, previous_status, caller.organisation, now
                    ),
                )
    return action


async def add_note(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    caller: Caller,
    plan_id: str,
    action_id: str,
    request: ActionNoteCreate,
) -> ActionWithNotes:
    """Record progress on an action (kept in order, never edited)."""
    async with session.begin():
        plan = await plan_to_change(session, plan_id, caller)
        action = await _action_or_404(session, plan_id, action_id)
        repository.add(
            session,
            ActionNote(
                action_id=action.id,
                text=request.text,
                written_at=now,
                subject=caller.subject,
                organisation=caller.organisation,
            ),
        )
        action.updated_at = now
        record_change(
            session,
            plan,
            change="action.note_added",
            entity_id=action.id,
            caller=caller,
            at=now,
            details={"text": request.text},
        )
    return await get_action(
        session, now=now, settings=settings, plan_id=plan_id, action_id=action_id
    )


async def _action_or_404(session: AsyncSession, plan_id: str, action_id: str) -> Action:
    action = await repository.get_action(session, plan_id, action_id)
    if action is None:
        raise NotFound(f"No action with id '{action_id}' in plan '{plan_id}'.")
    return action


async def get_action(
    session: AsyncSession, *, now: datetime, settings: Settings, plan_id: str, action_id: str
) -> ActionWithNotes:
    """One action with its progress notes."""
    action = await _action_or_404(session, plan_id, action_id)
    notes = await repository.notes_of(session, action.id)
    return ActionWithNotes(action, list(notes))


async def list_actions(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    plan_id: str,
    status: str | None,
    owner_organisation: str | None,
    overdue: bool,
    cursor: str | None,
    limit: int,
) -> PageOf[Action]:
    await plan_or_404(session, plan_id)
    today = local_today(settings.timezone, now)
    where = repository.ActionFilter(
        status=status, owner_organisation=owner_organisation, overdue_on=today if overdue else None
    )
    rows = await repository.list_actions(
        session, plan_id, where, decode_created_cursor(cursor), limit
    )
    page = page_by_creation(rows, limit)
    return page


async def announce_overdue_actions(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, today: date, batch_size: int = 200
) -> int:
    """Emit `action.overdue` once per open action past its due date; returns how many now.

    The flag and the outbox row commit together, and the flag is claimed with a conditional
    update, so two checkers (or two instances) never announce the same action twice.
    """
    announced = 0
    while True:
        async with sessions() as session, session.begin():
            due = await repository.actions_due_for_overdue_notice(session, today, batch_size)
            for action in due:
                if not await repository.claim_overdue_notice(session, action.id, now):
                    continue
                plan = await repository.get_plan(session, action.plan_id)
                assert plan is not None
                record_change(
                    session,
                    plan,
                    change="action.overdue",
                    entity_id=action.id,
                    caller=None,
                    at=now,
                    details={"due_on": action.due_on.isoformat() if action.due_on else None},
                )
                add_event(session, OutboxEvent, events.action_overdue(plan, action, now))
                announced += 1
        if len(due) < batch_size:
            metrics.overdue_breached("action", announced)
            return announced
