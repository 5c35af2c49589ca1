"""What the metrics handlers share within one consumer batch: facts and watched indicators.

Applied one by one, each event costs a fact look-up, two look-ups of the watched indicators
of its locality and its own flush, which bounds a replay to a few hundred events a second.
Within a batch (one poll, one transaction) `prefetch` loads the facts of every referral and
action of the batch and the watched pairs of every locality in three queries; the handlers
find them here and the batch is flushed once, in `finish`, so its inserts go out together.
A watched (indicator, area) pair is still re-checked after each event that touches it (rare:
only pairs with a target or an announced status), so the announcements are those of events
applied one by one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.models import ActionFact, ReferralFact, ReferralFactCategory
from services.metrics.repository import facts
from shared.consumer import BatchHooks
from shared.contracts import actionplans as plans
from shared.contracts import referrals
from shared.events import EventEnvelope

BATCH_KEY = "metrics_consumer_batch"


@dataclass
class FactBatch:
    """Facts by id (prefetched, then added as created) and the watched (indicator, area) pairs."""

    referral_facts: dict[str, ReferralFact]
    referral_categories: dict[str, dict[str, ReferralFactCategory]]  # by referral, then code
    action_facts: dict[str, ActionFact]
    watched: set[tuple[str, str]]


def current_batch(session: AsyncSession) -> FactBatch | None:
    """The batch the session applies, or None when events are applied one by one."""
    return session.info.get(BATCH_KEY)


def _ids(envelopes: Sequence[EventEnvelope], types: set[str], name: str) -> list[str]:
    ids = (envelope.data.get(name) for envelope in envelopes if envelope.type in types)
    return sorted({value for value in ids if isinstance(value, str)})


REFERRAL_TYPES = {
    referrals.REFERRAL_RECEIVED_V1,
    referrals.REFERRAL_TRIAGED_V1,
    referrals.REFERRAL_RESOLVED_V1,
    referrals.REFERRAL_REOPENED_V1,
    referrals.REFERRAL_OVERDUE_V1,
    referrals.REFERRAL_STATE_ANNOUNCED_V1,
}
ACTION_TYPES = {plans.ACTION_CREATED_V1, plans.ACTION_STATUS_CHANGED_V1, plans.ACTION_OVERDUE_V1}


async def prefetch(session: AsyncSession, envelopes: Sequence[EventEnvelope]) -> None:
    localities = sorted(
        {
            value
            for envelope in envelopes
            if isinstance(value := envelope.data.get("locality_code"), str)
        }
    )
    referral_ids = _ids(envelopes, REFERRAL_TYPES, "referral_id")
    session.info[BATCH_KEY] = FactBatch(
        referral_facts=await facts.referral_facts_by_id(session, referral_ids),
        referral_categories=await facts.referral_categories_by_id(session, referral_ids),
        action_facts=await facts.action_facts_by_id(
            session, _ids(envelopes, ACTION_TYPES, "action_id")
        ),
        watched=await repository.watched_pairs_in_areas(session, localities),
    )


async def finish(session: AsyncSession) -> None:
    session.info.pop(BATCH_KEY, None)
    await session.flush()


HOOKS = BatchHooks(prefetch=prefetch, finish=finish)
