"""Request and response shapes of the webhook routes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.referrals.domain.webhooks import WebhookEventType


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unique(types: list[WebhookEventType] | None) -> list[WebhookEventType] | None:
    # None: an update that leaves the event types as they are.
    if types is not None and len(set(types)) != len(types):
        raise ValueError("each event type at most once")
    return types


class SubscriptionCreate(_Strict):
    url: str = Field(max_length=2000, examples=["https://partner.example/hooks/locality-hub"])
    event_types: list[WebhookEventType] = Field(min_length=1)

    _unique_types = field_validator("event_types")(_unique)


class SubscriptionUpdate(_Strict):
    """Any of: a new URL, a new set of event types, disable or re-enable."""

    url: str | None = Field(None, max_length=2000)
    event_types: list[WebhookEventType] | None = Field(None, min_length=1)
    enabled: bool | None = None

    _unique_types = field_validator("event_types")(_unique)


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation: str
    url: str
    event_types: list[str]
    enabled: bool
    # Why the service disabled it (persistent delivery failure), when it did.
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The signing secret; shown this once. Keep it safe.")


class SecretRead(BaseModel):
    secret: str = Field(description="The new signing secret; shown this once.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionRead]


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The `webhook-id` header: the same on every retry")
    event_type: str
    referral_id: str | None = Field(None, description="The referral it is about, if any")
    plan_id: str | None = Field(None, description="The action plan it is about (plan.escalated)")
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = None
