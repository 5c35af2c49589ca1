"""Fan-out: a change becomes notifications to the partners entitled to hear of it.

A change to a referral: called by the use case that makes the change, in its transaction; who
is entitled is decided from the referral as the change leaves it, and the notifications commit
with the change (or not at all). An escalated action plan (an actionplans event): called by the
consumer, in the transaction that records the event as processed. The delivery worker
(service/webhook_delivery.py) sends them afterwards.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import repository, webhook_repository
from services.referrals.domain.webhooks import WebhookEventType, plan_recipients, recipients
from services.referrals.models import Referral, WebhookDelivery, WebhookSubscription
from shared.contracts.actionplans import PlanEscalatedV1

# Set in a session's `info` when it staged deliveries; the worker is woken after its commit.
STAGED_DELIVERIES_FLAG = "webhook_deliveries_staged"
# Webhook ids of notifications made from a consumed event: the same event, the same ids.
DELIVERY_IDS = uuid.UUID("0b6f4f5e-3c1d-4c55-9d0e-6a1f0c2b7d41")


def plan_subject_key(plan_id: str) -> str:
    """The ordering key of notifications about a plan (a referral's is its id)."""
    return f"plan:{plan_id}"


def notice_payload(
    event_type: WebhookEventType, referral: Referral, now: datetime, **ids: str
) -> dict[str, Any]:
    """A thin notification: the type, ids and a link; the partner reads the rest with its token
    (so the read is authorised and audited). Never names, addresses or free text."""
    return {
        "type": event_type.value,
        "timestamp": now.isoformat(),
        "data": {
            "referral_id": referral.id,
            "reference": referral.reference,
            **ids,
            "links": {"referral": f"/api/v1/referrals/{referral.id}"},
        },
    }


async def notify_partners(
    session: AsyncSession,
    referral: Referral,
    event_type: WebhookEventType,
    now: datetime,
    *,
    addressee: str | None = None,
    **ids: str,
) -> int:
    """Queue one delivery per subscription entitled to this notification; returns how many."""
    wanting = [
        subscription
        for subscription in await webhook_repository.enabled_subscriptions(session)
        if event_type.value in subscription.event_types
    ]
    if not wanting:
        return 0
    await session.flush()  # the involvement as this change leaves it (shares, tasks)
    involvement = await repository.involvement(session, referral)
    chosen = recipients(
        event_type, {s.organisation for s in wanting}, involvement, addressee=addressee
    )
    payload = notice_payload(event_type, referral, now, **ids)
    return _queue(
        session,
        [s for s in wanting if s.organisation in chosen],
        event_type,
        payload,
        now,
        referral_id=referral.id,
        subject_key=referral.id,
    )


def plan_notice_payload(
    event_type: WebhookEventType, plan_id: str, at: datetime, **ids: str | None
) -> dict[str, Any]:
    """A thin notification about an action plan: ids and a link, nothing a person wrote."""
    return {
        "type": event_type.value,
        "timestamp": at.isoformat(),
        "data": {
            "plan_id": plan_id,
            **ids,
            "links": {"plan": f"/api/v1/action-plans/{plan_id}"},
        },
    }


async def notify_plan_escalated(
    session: AsyncSession, event: PlanEscalatedV1, *, event_id: str, now: datetime
) -> int:
    """Queue `plan.escalated` to every subscription of the plan's lead or members wanting it.

    Idempotent: each webhook id is derived from the event's id and the subscription, and one
    already queued is not queued again (the inbox skips a redelivered event first anyway).
    """
    event_type = WebhookEventType.PLAN_ESCALATED
    wanting = [
        subscription
        for subscription in await webhook_repository.enabled_subscriptions(session)
        if event_type.value in subscription.event_types
    ]
    chosen = plan_recipients(
        {s.organisation for s in wanting}, event.lead_organisation, event.member_organisations
    )
    told = [s for s in wanting if s.organisation in chosen]
    if not told:
        return 0
    ids = {s.id: delivery_id(event_id, s.id) for s in told}
    known = await webhook_repository.existing_delivery_ids(session, list(ids.values()))
    payload = plan_notice_payload(
        event_type,
        event.plan_id,
        event.escalated_at,
        locality_code=event.locality_code,
        review_id=event.review_id,
    )
    return _queue(
        session,
        [s for s in told if ids[s.id] not in known],
        event_type,
        payload,
        now,
        plan_id=event.plan_id,
        subject_key=plan_subject_key(event.plan_id),
        ids=ids,
    )


def delivery_id(event_id: str, subscription_id: str) -> str:
    """The webhook id of the notification of one consumed event to one subscription."""
    return f"msg_{uuid.uuid5(DELIVERY_IDS, f'{event_id}/{subscription_id}').hex}"


def _queue(
    session: AsyncSession,
    subscriptions: list[WebhookSubscription],
    event_type: WebhookEventType,
    payload: dict[str, Any],
    now: datetime,
    *,
    subject_key: str,
    referral_id: str | None = None,
    plan_id: str | None = None,
    ids: dict[str, str] | None = None,
) -> int:
    """One pending delivery of `payload` per subscription, due now; returns how many."""
    for subscription in subscriptions:
        session.add(
            WebhookDelivery(
                id=(ids or {}).get(subscription.id) or f"msg_{uuid.uuid4().hex}",
                subscription_id=subscription.id,
                referral_id=referral_id,
                plan_id=plan_id,
                subject_key=subject_key,
                event_type=event_type.value,
                payload=payload,
                created_at=now,
                queued_at=now,
                status=webhook_repository.PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
    if subscriptions:
        session.info[STAGED_DELIVERIES_FLAG] = True
    return len(subscriptions)
