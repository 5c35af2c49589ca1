"""Response models of the metrics API."""

from pydantic import BaseModel


class ReferralCount(BaseModel):
    locality_code: str
    referrals_received: int


class ReferralCounts(BaseModel):
    items: list[ReferralCount]
