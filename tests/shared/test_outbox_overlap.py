"""The running relay records a pass while the next one sends: nothing twice, no key reordered."""

from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.outbox import OutboxRelay
from tests.event_waits import wait_for_distinct_events
from tests.shared.models import OutboxEvent
from tests.shared.test_outbox_order import envelope, stage, unpublished

pytestmark = pytest.mark.integration


async def test_the_next_pass_skips_rows_not_yet_recorded_and_holds_keys_refused_meanwhile(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka: str,
    service_prefix: str,
    make_relay: Callable[..., OutboxRelay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    too_big = envelope(service_prefix, "big", 0, blob="x" * (2 * 1024 * 1024))
    behind_it = envelope(service_prefix, "big", 1)
    others = [envelope(service_prefix, f"other-{k}", 0) for k in range(2)]
    await stage(sessions, too_big, behind_it, *others)
    relay = make_relay(sessions, OutboxEvent, producer, max_attempts=2)

    # Recording a pass waits until the next pass has sent what it sends (the slow write turn
    # of a busy SQLite service, made certain): that pass must not trust the table.
    sent: list[str] = []
    real_send, real_finish = producer.send, relay._finish_marking

    async def spy_send(topic: str, **kwargs: Any) -> Any:
        sent.append(topic if kwargs.get("key") is None else kwargs["key"].decode())
        return await real_send(topic, **kwargs)

    async def finish_after_sending() -> None:
        sent.append("--recorded--")
        await real_finish()

    monkeypatch.setattr(producer, "send", spy_send)
    monkeypatch.setattr(relay, "_finish_marking", finish_after_sending)

    assert await relay._publish_overlapped() == 2  # the other keys; `big` refused
    assert await relay._publish_overlapped() == 0, "nothing sent twice, `big` held meanwhile"
    assert sent == ["big", "other-0", "other-1", "--recorded--", "--recorded--"]
    while relay.parked == 0:
        await relay._publish_overlapped()
    await relay._finish_marking()  # `big` parked and recorded: the row behind it goes now
    assert await relay._publish_overlapped() == 1
    await relay._finish_marking()
    assert relay.parked == 1
    assert [row.event_id for row in await unpublished(sessions)] == [too_big.id]

    received = await wait_for_distinct_events(kafka, f"{service_prefix}.thing", distinct=3)
    assert {event.id for event in received} == {e.id for e in [behind_it, *others]}
    assert len(received) == 3, "each sent once"
