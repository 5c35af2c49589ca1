import pytest

from shared import tracing
from shared.events import (
    EventEnvelope,
    MalformedEvent,
    encode_data,
    from_kafka_record,
    new_event,
    to_kafka_headers,
    topic_for,
)

pytestmark = pytest.mark.unit


def test_event_type_names_its_topic_by_service_and_entity() -> None:
    assert topic_for("referrals.referral.received.v1") == "referrals.referral"
    assert topic_for("metrics.indicator.status_changed.v2") == "metrics.indicator"


@pytest.mark.parametrize(
    "bad", ["referrals.received", "a.b.c.d.e", "referrals.referral.received.1"]
)
def test_event_type_without_four_parts_and_a_version_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"<service>\.<entity>\.<verb>\.v<N>"):
        topic_for(bad)


def test_envelope_survives_binary_mode_round_trip() -> None:
    envelope = EventEnvelope(
        source="/services/referrals",
        type="referrals.referral.received.v1",
        subject="r-1",
        data={"referral_id": "r-1", "locality_code": "NO"},
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        requestid="req-1",
    )
    decoded = from_kafka_record(to_kafka_headers(envelope), encode_data(envelope))
    assert decoded == envelope


def test_attributes_travel_as_ce_headers_and_data_as_the_value() -> None:
    envelope = EventEnvelope(source="/s", type="a.b.c.v1", subject="k", data={"x": 1})
    headers = dict(to_kafka_headers(envelope))
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"a.b.c.v1"
    assert headers["ce_id"] == envelope.id.encode()
    assert headers["content-type"] == b"application/json"
    assert encode_data(envelope) == b'{"x":1}'


def test_new_event_carries_the_current_request_context() -> None:
    tokens = tracing.bind("req-42", "00-" + "c" * 32 + "-" + "d" * 16 + "-01")
    try:
        envelope = new_event("/s", "a.b.c.v1", "k", {"x": 1})
    finally:
        tracing.unbind(tokens)
    assert envelope.requestid == "req-42"
    assert envelope.traceparent.startswith("00-" + "c" * 32)


def test_record_without_ce_headers_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="ce_id"):
        from_kafka_record([("ce_specversion", b"1.0")], b"{}")


def test_record_whose_value_is_not_json_is_malformed() -> None:
    envelope = EventEnvelope(source="/s", type="a.b.c.v1")
    with pytest.raises(MalformedEvent, match="not JSON"):
        from_kafka_record(to_kafka_headers(envelope), b"{not json")


def test_record_whose_value_is_a_json_list_is_malformed() -> None:
    envelope = EventEnvelope(source="/s", type="a.b.c.v1")
    with pytest.raises(MalformedEvent, match="JSON object"):
        from_kafka_record(to_kafka_headers(envelope), b"[1, 2]")


def test_record_with_a_bad_time_is_malformed() -> None:
    envelope = EventEnvelope(source="/s", type="a.b.c.v1")
    headers = [(k, b"yesterday" if k == "ce_time" else v) for k, v in to_kafka_headers(envelope)]
    with pytest.raises(MalformedEvent):
        from_kafka_record(headers, b"{}")
