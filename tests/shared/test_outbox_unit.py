import orjson
import pytest

from shared.events import EventEnvelope
from shared.outbox import outbox_row
from tests.shared.models import OutboxEvent

pytestmark = pytest.mark.unit


def test_outbox_row_is_the_record_to_publish() -> None:
    envelope = EventEnvelope(
        source="/services/referrals",
        type="referrals.referral.received.v1",
        subject="ref-1",
        data={"referral_id": "ref-1"},
    )
    row = outbox_row(OutboxEvent, envelope)
    assert row.event_id == envelope.id
    assert row.topic == "referrals.referral"
    assert row.key == "ref-1"
    assert row.payload == b'{"referral_id":"ref-1"}'
    assert ["ce_id", envelope.id] in orjson.loads(row.headers)
    assert row.published_at is None
