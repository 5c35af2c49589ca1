"""Event payload contracts, one module per producing service, versioned and additive.

Producers build these payloads; consumers parse them and ignore fields they do not know.
Payloads carry ids, codes, localities and timestamps: never names, addresses, contacts or free text.
"""

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """Base of every payload: unknown fields are ignored so producers can add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)
