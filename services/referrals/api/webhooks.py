"""Webhook subscriptions of the calling organisation, and their delivery logs."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from services.referrals.api.deps import NowDep, PageLimit, SettingsDep
from services.referrals.service import webhooks
from services.referrals.service.webhook_targets import Resolver, resolve_host
from services.referrals.webhook_schemas import (
    DeliveryPage,
    DeliveryRead,
    SecretRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionRead,
    SubscriptionUpdate,
)
from shared.app import SessionDep
from shared.auth import Caller, require_scope

router = APIRouter(prefix="/api/v1/webhooks/subscriptions", tags=["webhooks"])
Manager = Annotated[Caller, require_scope("webhooks:manage")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such subscription of your organisation"}
}
REFUSED_URL: dict[int | str, dict[str, Any]] = {
    422: {"description": "The URL is refused (not HTTPS, or a private or local target)"}
}


async def _resolver(request: Request) -> Resolver:
    """How host names are resolved: the system's resolver unless a test set its own."""
    resolver: Resolver = getattr(request.app.state, "webhook_resolver", resolve_host)
    return resolver


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    responses=REFUSED_URL,
)
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Manager,
) -> SubscriptionCreated:
    """Register an endpoint for your organisation; the signing secret is shown this once."""
    subscription = await webhooks.create_subscription(
        session,
        caller=caller,
        request=body,
        policy=settings.webhook_target_policy(),
        resolve=await _resolver(request),
        now=now,
    )
    return SubscriptionCreated.model_validate(subscription)


@router.get("", response_model=SubscriptionList)
async def list_subscriptions(session: SessionDep, caller: Manager) -> SubscriptionList:
    """Your organisation's webhook subscriptions (secrets are never shown again)."""
    found = await webhooks.list_subscriptions(session, caller=caller)
    return SubscriptionList(items=[SubscriptionRead.model_validate(s) for s in found])


@router.get("/{subscription_id}", response_model=SubscriptionRead, responses=NOT_FOUND)
async def get_subscription(
    subscription_id: str, session: SessionDep, caller: Manager
) -> SubscriptionRead:
    """One subscription, with why it was disabled if the service disabled it."""
    found = await webhooks.get_subscription(session, caller=caller, subscription_id=subscription_id)
    return SubscriptionRead.model_validate(found)


@router.patch(
    "/{subscription_id}",
    response_model=SubscriptionRead,
    responses={**NOT_FOUND, **REFUSED_URL},
)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionUpdate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Manager,
) -> SubscriptionRead:
    """Change the URL or event types, or disable or re-enable the subscription.

    Re-enabling sends what failed while it was disabled, in order, with the same webhook ids.
    """
    updated = await webhooks.update_subscription(
        session,
        caller=caller,
        subscription_id=subscription_id,
        request=body,
        policy=settings.webhook_target_policy(),
        resolve=await _resolver(request),
        now=now,
    )
    return SubscriptionRead.model_validate(updated)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_subscription(
    subscription_id: str, session: SessionDep, caller: Manager
) -> Response:
    """Delete the subscription and its delivery log."""
    await webhooks.delete_subscription(session, caller=caller, subscription_id=subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/rotate-secret", response_model=SecretRead, responses=NOT_FOUND)
async def rotate_secret(
    subscription_id: str, session: SessionDep, now: NowDep, caller: Manager
) -> SecretRead:
    """Replace the signing secret; the new one is shown this once and signs from now on."""
    rotated = await webhooks.rotate_secret(
        session, caller=caller, subscription_id=subscription_id, now=now
    )
    return SecretRead(secret=rotated.secret)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND)
async def list_deliveries(
    subscription_id: str,
    session: SessionDep,
    settings: SettingsDep,
    caller: Manager,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = None,
) -> DeliveryPage:
    """The delivery log, newest first: attempts, last response code or error, next attempt."""
    page = await webhooks.list_deliveries(
        session,
        caller=caller,
        subscription_id=subscription_id,
        cursor=cursor,
        limit=min(limit or settings.default_page_size, settings.max_page_size),
    )
    return DeliveryPage(
        items=[DeliveryRead.model_validate(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=NOT_FOUND,
)
async def redeliver(
    subscription_id: str, delivery_id: str, session: SessionDep, now: NowDep, caller: Manager
) -> DeliveryRead:
    """Queue a notification again, with the same webhook id."""
    delivery = await webhooks.redeliver(
        session, caller=caller, subscription_id=subscription_id, delivery_id=delivery_id, now=now
    )
    return DeliveryRead.model_validate(delivery)
