"""The delivery worker: sends queued notifications, signed, in order per endpoint and referral.

It sleeps until woken (a commit that queued deliveries) or until the next attempt falls due,
and never longer than the idle poll, so a missed wake-up costs seconds, and an idle service
does one small query per idle poll. One long-lived HTTP client serves every endpoint.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlalchemy import event as orm_event
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from standardwebhooks import Webhook

from services.referrals import webhook_repository
from services.referrals.domain.webhooks import RetryPolicy, TargetPolicy, UnsafeTarget
from services.referrals.models import WebhookDelivery, WebhookSubscription
from services.referrals.service.webhook_notices import STAGED_DELIVERIES_FLAG
from services.referrals.service.webhook_targets import Resolver, check_target
from services.referrals.webhook_repository import DELIVERED, FAILED, PENDING
from shared.clock import Clock, system_clock

log = logging.getLogger(__name__)

BATCH_SIZE = 50
# A claimed delivery is not tried by another worker until this long after the claim.
CLAIM_LEASE = timedelta(minutes=2)


def signed_request(delivery: WebhookDelivery, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers of one attempt.

    The timestamp is the wall clock's, not the business clock's: receivers check it against
    their own clocks to refuse replays.
    """
    body = orjson.dumps(delivery.payload)
    sent_at = system_clock()
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.id, sent_at, body.decode()),
    }
    return body, headers


class DeliveryWorker:
    """Sends due deliveries until stopped; `wake()` makes it look at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        policy: TargetPolicy,
        resolve: Callable[[], Resolver],
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        idle_poll_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._policy = policy
        self._resolve = resolve
        self._retry = retry or RetryPolicy()
        self._timeout_s = timeout_s
        self._idle_poll_s = idle_poll_s
        self._transport = transport
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake_after_commits(self, session_class: type[Session]) -> None:
        """Wake when a session of `session_class` commits deliveries it queued."""

        def after_commit(session: Session) -> None:
            if session.info.pop(STAGED_DELIVERIES_FLAG, False):
                self.wake()

        def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
            # A rolled-back transaction's deliveries are gone: forget the flag with them.
            if transaction.parent is None:
                session.info.pop(STAGED_DELIVERIES_FLAG, None)

        orm_event.listen(session_class, "after_commit", after_commit)
        orm_event.listen(session_class, "after_transaction_end", after_transaction_end)

    async def run(self) -> None:
        async with httpx.AsyncClient(
            timeout=self._timeout_s, follow_redirects=False, transport=self._transport
        ) as client:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    next_due = await self.deliver_due(client)
                except Exception:
                    log.exception("webhook delivery round failed; trying again shortly")
                    next_due = None
                await self._sleep(self._wait_for(next_due))

    def _wait_for(self, next_due: datetime | None) -> float:
        if next_due is None:
            return self._idle_poll_s
        seconds = (next_due - self._clock()).total_seconds()
        return min(max(seconds, 0.0), self._idle_poll_s)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def deliver_due(self, client: httpx.AsyncClient) -> datetime | None:
        """Send everything due now; the time the next attempt falls due (None: nothing waits)."""
        self.rounds += 1
        while not self._stop.is_set():
            now = self._clock()
            async with self._sessions() as session, session.begin():
                due = await webhook_repository.due_deliveries(session, now, BATCH_SIZE)
            for delivery, subscription in due:
                if await self._claim(delivery, now):
                    await self._attempt(client, delivery, subscription)
            if len(due) < BATCH_SIZE:
                break
        async with self._sessions() as session, session.begin():
            return await webhook_repository.next_due_at(session)

    async def _claim(self, delivery: WebhookDelivery, now: datetime) -> bool:
        """Take the delivery for one attempt (compare-and-set: one worker of several wins)."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.seq == delivery.seq,
                    WebhookDelivery.status == PENDING,
                    WebhookDelivery.next_attempt_at == delivery.next_attempt_at,
                )
                .values(next_attempt_at=now + CLAIM_LEASE)
            )
        return bool(getattr(result, "rowcount", 0))

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        delivery: WebhookDelivery,
        subscription: WebhookSubscription,
    ) -> None:
        status_code: int | None = None
        error: str | None = None
        try:
            await check_target(subscription.url, self._policy, self._resolve())
            body, headers = signed_request(delivery, subscription.secret)
            response = await client.post(subscription.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except UnsafeTarget as refused:
            error = f"refused: {refused}"
        except Exception as failure:
            # Any failure is a failed attempt (httpx.HTTPError, but also a URL httpx cannot use):
            # an attempt must always be recorded, or its claim would expire and repeat unending.
            error = f"{type(failure).__name__}: {failure}"[:500]
        await self._record(delivery.seq, subscription.id, status_code, error)

    async def _record(
        self, seq: int, subscription_id: str, status_code: int | None, error: str | None
    ) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            delivery = await session.get(WebhookDelivery, seq, with_for_update=True)
            if delivery is None:  # the subscription was deleted meanwhile
                return
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status_code = status_code
            delivery.last_error = error
            if error is None:
                delivery.status = DELIVERED
                delivery.delivered_at = now
                delivery.next_attempt_at = None
                return
            retry_at = self._retry.next_attempt(
                attempts=delivery.attempts,
                first_queued_at=delivery.queued_at,
                now=now,
                rng=self._rng,
            )
            if retry_at is not None:
                delivery.next_attempt_at = retry_at
                return
            delivery.status = FAILED
            delivery.next_attempt_at = None
            await _disable(session, subscription_id, delivery, now)


async def _disable(
    session: AsyncSession, subscription_id: str, delivery: WebhookDelivery, now: datetime
) -> None:
    """Persistent failure: stop sending, and say why where the partner reads its subscription."""
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None or not subscription.enabled:
        return
    subscription.enabled = False
    subscription.disabled_at = now
    subscription.updated_at = now
    subscription.disabled_reason = (
        f"delivery {delivery.id} failed {delivery.attempts} times since "
        f"{delivery.queued_at.astimezone(UTC).isoformat()} (last: {delivery.last_error}); "
        "fix the endpoint, then re-enable the subscription to receive what is waiting"
    )
    log.warning(
        "webhook subscription %s disabled: %s", subscription_id, subscription.disabled_reason
    )
