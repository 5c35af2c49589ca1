"""Event envelope: CloudEvents 1.0 attributes, carried over Kafka in *binary content mode*.

Binary mode puts the attributes in `ce_*` record headers and the `data` (JSON) in the record
value. Consumers can route on `ce_type` without parsing the body, and the value stays the plain
payload that the producing service versions. The record key is the subject (the aggregate id),
so every event about one referral lands on one partition, in order.

Topic of an event: the first two parts of its type (`referrals.referral.received.v1` ->
`referrals.referral`), i.e. one topic per producing service and entity.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared import tracing

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"
HEADER_PREFIX = "ce_"
REQUIRED_HEADERS = ("specversion", "id", "source", "type", "time")
EXTENSIONS = ("subject", "traceparent", "requestid")


class MalformedEvent(ValueError):
    """A record that is not a valid event: it goes to the dead-letter topic."""


class EventEnvelope(BaseModel):
    """One event: who produced it, what happened, about which subject, and the payload."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    traceparent: str | None = None
    requestid: str | None = None
    specversion: str = SPEC_VERSION
    datacontenttype: str = JSON_CONTENT_TYPE

    @property
    def topic(self) -> str:
        return topic_for(self.type)


def new_event(
    source: str, type: str, subject: str | None, data: BaseModel | Mapping[str, Any]
) -> EventEnvelope:
    """Build an envelope for a payload, carrying the current request's trace context."""
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
    return EventEnvelope(
        source=source,
        type=type,
        subject=subject,
        data=payload,
        traceparent=tracing.current_traceparent(),
        requestid=tracing.current_request_id(),
    )


def topic_for(event_type: str) -> str:
    """`<service>.<entity>.<verb>.v<N>` is published on `<service>.<entity>`."""
    parts = event_type.split(".")
    if len(parts) != 4 or not parts[3].startswith("v"):
        raise ValueError(f"event type {event_type!r} is not <service>.<entity>.<verb>.v<N>")
    return f"{parts[0]}.{parts[1]}"


def to_kafka_headers(envelope: EventEnvelope) -> list[tuple[str, bytes]]:
    headers = [
        ("ce_specversion", envelope.specversion.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_time", envelope.time.isoformat().encode()),
        ("content-type", envelope.datacontenttype.encode()),
    ]
    for name in EXTENSIONS:
        value = getattr(envelope, name)
        if value:
            headers.append((HEADER_PREFIX + name, value.encode()))
    return headers


def encode_data(envelope: EventEnvelope) -> bytes:
    return orjson.dumps(envelope.data)


def from_kafka_record(headers: Sequence[tuple[str, bytes]], value: bytes | None) -> EventEnvelope:
    """Decode a binary-mode record, or raise MalformedEvent saying what is wrong."""
    attributes = _decode_headers(headers)
    missing = [name for name in REQUIRED_HEADERS if not attributes.get(name)]
    if missing:
        raise MalformedEvent(
            f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}"
        )
    if attributes["specversion"] != SPEC_VERSION:
        raise MalformedEvent(f"unsupported specversion {attributes['specversion']!r}")
    try:
        data = orjson.loads(value) if value else {}
    except orjson.JSONDecodeError as error:
        raise MalformedEvent(f"record value is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedEvent("record value must be a JSON object")
    try:
        return EventEnvelope(
            id=attributes["id"],
            source=attributes["source"],
            type=attributes["type"],
            time=datetime.fromisoformat(attributes["time"]),
            subject=attributes.get("subject"),
            traceparent=attributes.get("traceparent"),
            requestid=attributes.get("requestid"),
            data=data,
        )
    except ValueError as error:
        raise MalformedEvent(f"invalid CloudEvents attribute: {error}") from error


def _decode_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, raw in headers:
        if not name.startswith(HEADER_PREFIX) or raw is None:
            continue
        try:
            attributes[name[len(HEADER_PREFIX) :]] = raw.decode()
        except UnicodeDecodeError as error:
            raise MalformedEvent(f"header {name} is not UTF-8") from error
    return attributes
