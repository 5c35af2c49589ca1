"""Fan-out: a change to a referral becomes notifications to the partners entitled to hear of it.

Called by the use case that makes the change, in its transaction: who is entitled is decided
from the referral as the change leaves it, and the notifications commit with the change (or
not at all). The delivery worker (service/webhook_delivery.py) sends them afterwards.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import repository, webhook_repository
from services.referrals.domain.webhooks import WebhookEventType, recipients
from services.referrals.models import Referral, WebhookDelivery

# Set in a session's `info` when it staged deliveries; the worker is woken after its commit.
STAGED_DELIVERIES_FLAG = "webhook_deliveries_staged"


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
    queued = 0
    for subscription in wanting:
        if subscription.organisation not in chosen:
            continue
        session.add(
            WebhookDelivery(
                id=f"msg_{uuid.uuid4().hex}",
                subscription_id=subscription.id,
                referral_id=referral.id,
                event_type=event_type.value,
                payload=payload,
                created_at=now,
                queued_at=now,
                status=webhook_repository.PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
        queued += 1
    if queued:
        session.info[STAGED_DELIVERIES_FLAG] = True
    return queued
