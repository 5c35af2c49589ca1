"""Request and response models of the referrals API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.referrals.domain import Channel


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locality_code: str = Field(min_length=1, max_length=16, examples=["NO"])
    channel: Channel
    category_codes: list[str] = Field(min_length=1, examples=[["anti_social_behaviour"]])
    summary: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    external_ref: str | None = Field(default=None, max_length=200)


class ReferralRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    locality_code: str
    channel: Channel
    category_codes: list[str]
    summary: str
    description: str | None
    status: str
    received_at: datetime
    external_ref: str | None
