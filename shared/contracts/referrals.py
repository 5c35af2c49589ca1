"""Events produced by the referrals service (topic `referrals.referral`, key = referral id)."""

from datetime import datetime

from shared.contracts import EventPayload

SOURCE = "/services/referrals"
REFERRAL_RECEIVED_V1 = "referrals.referral.received.v1"


class ReferralReceivedV1(EventPayload):
    """A referral arrived at the single point of contact."""

    referral_id: str
    reference: str
    locality_code: str
    channel: str
    category_codes: list[str]
    risk_flags: list[str] = []
    received_at: datetime
    organisation: str
