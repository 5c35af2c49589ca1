"""Outgoing events of the referrals service."""

from services.referrals.models import Referral
from shared.contracts.referrals import REFERRAL_RECEIVED_V1, SOURCE, ReferralReceivedV1
from shared.events import EventEnvelope, new_event


def referral_received(referral: Referral) -> EventEnvelope:
    payload = ReferralReceivedV1(
        referral_id=referral.id,
        reference=referral.reference,
        locality_code=referral.locality_code,
        channel=referral.channel,
        category_codes=list(referral.category_codes),
        received_at=referral.received_at,
        organisation=referral.created_by_organisation,
    )
    return new_event(SOURCE, REFERRAL_RECEIVED_V1, referral.id, payload)
