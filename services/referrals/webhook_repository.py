"""Every query about webhook subscriptions and their deliveries."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.referrals.models import WebhookDelivery, WebhookSubscription

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


async def subscription(
    session: AsyncSession, subscription_id: str, organisation: str
) -> WebhookSubscription | None:
    """One of the organisation's subscriptions (another's is as good as absent)."""
    found = await session.get(WebhookSubscription, subscription_id)
    return found if found is not None and found.organisation == organisation else None


async def subscriptions_of(
    session: AsyncSession, organisation: str
) -> Sequence[WebhookSubscription]:
    return (
        await session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.organisation == organisation)
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        )
    ).all()


async def enabled_subscriptions(session: AsyncSession) -> Sequence[WebhookSubscription]:
    """Every enabled subscription; the caller filters by event type (a JSON list)."""
    return (
        await session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
        )
    ).all()


async def deliveries_of(
    session: AsyncSession, subscription_id: str, *, before_seq: int | None, limit: int
) -> Sequence[WebhookDelivery]:
    """A page of a subscription's delivery log, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before_seq is not None:
        query = query.where(WebhookDelivery.seq < before_seq)
    return (await session.scalars(query.order_by(WebhookDelivery.seq.desc()).limit(limit))).all()


async def delivery(
    session: AsyncSession, subscription_id: str, delivery_id: str
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription_id
        )
    )


async def existing_delivery_ids(session: AsyncSession, delivery_ids: list[str]) -> set[str]:
    """Those of `delivery_ids` already queued."""
    return set(
        (
            await session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.id.in_(delivery_ids))
            )
        ).all()
    )


def _earlier_undelivered() -> Exists:
    """An earlier notification about the same subject (a referral, a plan) to the same endpoint
    is not delivered."""
    earlier = aliased(WebhookDelivery)
    return exists().where(
        earlier.subscription_id == WebhookDelivery.subscription_id,
        earlier.subject_key == WebhookDelivery.subject_key,
        earlier.seq < WebhookDelivery.seq,
        earlier.status != DELIVERED,
    )


async def due_deliveries(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[WebhookDelivery, WebhookSubscription]]:
    """Pending deliveries due by `now` to enabled endpoints, each the first undelivered one of
    its subject for its endpoint (so notifications about one referral or plan arrive in order)."""
    rows = await session.execute(
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.enabled.is_(True),
            ~_earlier_undelivered(),
        )
        .order_by(WebhookDelivery.seq)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def next_due_at(session: AsyncSession) -> datetime | None:
    """The earliest next attempt of a pending delivery to an enabled endpoint that is not
    waiting behind an earlier one (those become due when the earlier one is delivered)."""
    return await session.scalar(
        select(func.min(WebhookDelivery.next_attempt_at))
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookSubscription.enabled.is_(True),
            ~_earlier_undelivered(),
        )
    )
