"""Handlers for the events the metrics service consumes."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.models import ReferralFact
from shared.consumer import EventHandler
from shared.contracts.referrals import REFERRAL_RECEIVED_V1, ReferralReceivedV1
from shared.events import EventEnvelope

CONSUMED_TOPICS = ["referrals.referral"]


async def on_referral_received(session: AsyncSession, envelope: EventEnvelope) -> None:
    payload = ReferralReceivedV1.model_validate(envelope.data)
    await repository.add_referral_fact(
        session,
        ReferralFact(
            referral_id=payload.referral_id,
            locality_code=payload.locality_code,
            channel=payload.channel,
            received_at=payload.received_at,
        ),
    )


HANDLERS: dict[str, EventHandler] = {REFERRAL_RECEIVED_V1: on_referral_received}
