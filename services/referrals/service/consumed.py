"""Handlers of the events the referrals service consumes: escalated action plans, told to the
partners on the plan who subscribed (service/webhook_notices.py).

The shared consumer runs each handler in the transaction that records the event as processed,
so a redelivered event queues nothing again; a payload that does not parse is dead-lettered.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.service.webhook_notices import notify_plan_escalated
from shared.clock import system_clock
from shared.consumer import EventHandler
from shared.contracts import actionplans as plans
from shared.events import EventEnvelope


async def on_plan_escalated(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = plans.PlanEscalatedV1.model_validate(envelope.data)
    # A consumer has no request: the notifications are queued now.
    await notify_plan_escalated(session, payload, event_id=envelope.id, now=system_clock())


HANDLERS: dict[str, EventHandler] = {
    plans.PLAN_ESCALATED_V1: on_plan_escalated,
}
