"""Partners' webhook subscriptions and their delivery log: one transaction per use case."""

import base64
import secrets
import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import webhook_repository
from services.referrals.domain.webhooks import TargetPolicy, UnsafeTarget
from services.referrals.models import WebhookDelivery, WebhookSubscription
from services.referrals.service.webhook_notices import STAGED_DELIVERIES_FLAG
from services.referrals.service.webhook_targets import Resolver, check_target
from services.referrals.webhook_repository import FAILED, PENDING
from services.referrals.webhook_schemas import SubscriptionCreate, SubscriptionUpdate
from shared.auth import Caller
from shared.pagination import PageOf, decode_sequence_cursor, page_by_sequence
from shared.problems import NotFound, Unprocessable


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def _require_safe_url(url: str, policy: TargetPolicy, resolve: Resolver) -> None:
    try:
        await check_target(url, policy, resolve)
    except UnsafeTarget as error:
        raise Unprocessable(
            f"The webhook URL is refused: {error}.",
            errors=[{"field": "url", "message": str(error)}],
        ) from error


async def create_subscription(
    session: AsyncSession,
    *,
    caller: Caller,
    request: SubscriptionCreate,
    policy: TargetPolicy,
    resolve: Resolver,
    now: datetime,
) -> WebhookSubscription:
    """Register an endpoint of the caller's organisation; its secret is returned this once."""
    await _require_safe_url(request.url, policy, resolve)
    async with session.begin():
        subscription = WebhookSubscription(
            id=str(uuid.uuid4()),
            organisation=caller.organisation,
            url=request.url,
            event_types=[event_type.value for event_type in request.event_types],
            secret=new_secret(),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        session.add(subscription)
    return subscription


async def list_subscriptions(session: AsyncSession, *, caller: Caller) -> list[WebhookSubscription]:
    """The caller's organisation's subscriptions, oldest first."""
    async with session.begin():
        return list(await webhook_repository.subscriptions_of(session, caller.organisation))


async def _own(session: AsyncSession, subscription_id: str, caller: Caller) -> WebhookSubscription:
    found = await webhook_repository.subscription(session, subscription_id, caller.organisation)
    if found is None:
        raise NotFound(f"No webhook subscription with id '{subscription_id}'.")
    return found


async def get_subscription(
    session: AsyncSession, *, caller: Caller, subscription_id: str
) -> WebhookSubscription:
    async with session.begin():
        return await _own(session, subscription_id, caller)


async def update_subscription(
    session: AsyncSession,
    *,
    caller: Caller,
    subscription_id: str,
    request: SubscriptionUpdate,
    policy: TargetPolicy,
    resolve: Resolver,
    now: datetime,
) -> WebhookSubscription:
    """Change the URL or event types, or disable or re-enable; re-enabling sends again what
    failed while the endpoint was down, in order."""
    if request.url is not None:
        await _require_safe_url(request.url, policy, resolve)
    async with session.begin():
        subscription = await _own(session, subscription_id, caller)
        if request.url is not None:
            subscription.url = request.url
        if request.event_types is not None:
            subscription.event_types = [event_type.value for event_type in request.event_types]
        if request.enabled is False and subscription.enabled:
            subscription.enabled = False
            subscription.disabled_at = now
            subscription.disabled_reason = f"disabled by {caller.organisation}"
        elif request.enabled and not subscription.enabled:
            subscription.enabled = True
            subscription.disabled_at = None
            subscription.disabled_reason = None
            await _requeue_failed(session, subscription.id, now)
            session.info[STAGED_DELIVERIES_FLAG] = True
        subscription.updated_at = now
    return subscription


async def _requeue_failed(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == FAILED)
        .values(status=PENDING, queued_at=now, next_attempt_at=now)
    )


async def delete_subscription(
    session: AsyncSession, *, caller: Caller, subscription_id: str
) -> None:
    """Forget the subscription and its delivery log."""
    async with session.begin():
        await session.delete(await _own(session, subscription_id, caller))


async def rotate_secret(
    session: AsyncSession, *, caller: Caller, subscription_id: str, now: datetime
) -> WebhookSubscription:
    """A new signing secret at once; the old one signs nothing from now on."""
    async with session.begin():
        subscription = await _own(session, subscription_id, caller)
        subscription.secret = new_secret()
        subscription.updated_at = now
    return subscription


async def list_deliveries(
    session: AsyncSession,
    *,
    caller: Caller,
    subscription_id: str,
    cursor: str | None,
    limit: int,
) -> PageOf[WebhookDelivery]:
    """The subscription's delivery log, newest first."""
    before = decode_sequence_cursor(cursor)
    async with session.begin():
        await _own(session, subscription_id, caller)
        rows = await webhook_repository.deliveries_of(
            session, subscription_id, before_seq=before, limit=limit + 1
        )
    return page_by_sequence(list(rows), limit)


async def redeliver(
    session: AsyncSession,
    *,
    caller: Caller,
    subscription_id: str,
    delivery_id: str,
    now: datetime,
) -> WebhookDelivery:
    """Send a notification again, with the same `webhook-id` (so a receiver may drop it)."""
    async with session.begin():
        await _own(session, subscription_id, caller)
        delivery = await webhook_repository.delivery(session, subscription_id, delivery_id)
        if delivery is None:
            raise NotFound(f"No delivery '{delivery_id}' for this subscription.")
        delivery.status = PENDING
        delivery.queued_at = now
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        session.info[STAGED_DELIVERIES_FLAG] = True
    return delivery
