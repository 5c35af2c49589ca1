"""Waiting for named events on a real topic: a specific event with a deadline, never a period.

Topics are shared by every test on one broker, so a wait always names the event it wants
(subject, id, type or a predicate); the deadline only bounds a failure, a passing wait returns
as soon as its event is read.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.events import EventEnvelope, from_kafka_record

Match = Callable[[EventEnvelope], bool]

DEADLINE_S = 30.0  # only ever reached by a failing test, so generous for a loaded machine
POLL_MS = 100


def event_matching(
    *,
    subject: str | None = None,
    type: str | None = None,
    id: str | None = None,
    where: Match | None = None,
) -> Match:
    """A predicate on envelope attributes (all given ones must hold)."""

    def matches(event: EventEnvelope) -> bool:
        return (
            (subject is None or event.subject == subject)
            and (type is None or event.type == type)
            and (id is None or event.id == id)
            and (where is None or where(event))
        )

    return matches


class TopicTail:
    """Reads one topic from its start without a consumer group, so nothing is committed."""

    def __init__(self, kafka: str, topic: str) -> None:
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> "TopicTail":
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._consumer.stop()

    async def next_records(self) -> list[ConsumerRecord]:
        """Raw records that arrived since the last call (waits at most POLL_MS for something)."""
        batches = await self._consumer.getmany(timeout_ms=POLL_MS)
        return [record for records in batches.values() for record in records]

    async def next_events(self) -> list[EventEnvelope]:
        """Whatever arrived since the last call (waits at most POLL_MS for something)."""
        return [from_kafka_record(r.headers, r.value) for r in await self.next_records()]

    async def records_to_current_end(self) -> list[ConsumerRecord]:
        """Every raw record already in the log now: up to each partition's end offset."""
        partitions = self._consumer.assignment() or {
            TopicPartition(self.topic, p)
            for p in self._consumer.partitions_for_topic(self.topic) or ()
        }
        ends = await self._consumer.end_offsets(list(partitions))
        records: list[ConsumerRecord] = []
        while await self._behind(ends):
            records.extend(await self.next_records())
        return records

    async def read_to_current_end(self) -> list[EventEnvelope]:
        """Everything already in the log now: up to each partition's end offset at this moment."""
        return [from_kafka_record(r.headers, r.value) for r in await self.records_to_current_end()]

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        assigned = self._consumer.assignment()
        for partition, end in ends.items():
            if partition not in assigned:
                if end > 0:
                    return True
            elif await self._consumer.position(partition) < end:
                return True
        return False


async def wait_for_events(
    kafka: str,
    topic: str,
    *,
    match: Match,
    count: int = 1,
    deadline_s: float = DEADLINE_S,
) -> list[EventEnvelope]:
    """Every matching event in the log once `count` of them have arrived, in topic order.

    After the count is reached, the rest of the log as it stands is read too, so a caller
    asserting "exactly once" sees a duplicate that was already published.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    found: list[EventEnvelope] = []
    async with TopicTail(kafka, topic) as tail:
        while len(found) < count:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{len(found)} of {count} matching events on {topic} within {deadline_s}s: "
                    f"{[e.type for e in found]}"
                )
            found.extend(e for e in await tail.next_events() if match(e))
        found.extend(e for e in await tail.read_to_current_end() if match(e))
    return found


async def wait_for_distinct_events(
    kafka: str, topic: str, *, distinct: int, deadline_s: float = DEADLINE_S
) -> list[EventEnvelope]:
    """Every event in the log once `distinct` different event ids have arrived, duplicates too."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    found: list[EventEnvelope] = []
    async with TopicTail(kafka, topic) as tail:
        while len({e.id for e in found}) < distinct:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{len({e.id for e in found})} of {distinct} distinct events on {topic} "
                    f"within {deadline_s}s"
                )
            found.extend(await tail.next_events())
        found.extend(await tail.read_to_current_end())
    return found


async def wait_for_event(
    kafka: str, topic: str, *, match: Match, deadline_s: float = DEADLINE_S
) -> EventEnvelope:
    """The first matching event on `topic`; fails at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    async with TopicTail(kafka, topic) as tail:
        while loop.time() <= deadline:
            for event in await tail.next_events():
                if match(event):
                    return event
    raise AssertionError(f"no matching event on {topic} within {deadline_s}s")


async def assert_no_event(
    kafka: str, topic: str, *, match: Match, before: Match, deadline_s: float = DEADLINE_S
) -> list[EventEnvelope]:
    """Fail if an event matching `match` is on `topic` ahead of the fence event `before`.

    Bounded by a fence, not by a period: the caller makes the fence happen after the action
    that must stay silent, on the same partition (same subject key) and through the same
    ordered path (one outbox relay, or one consumer), so once the fence has been read,
    anything the action could have produced has been read too. Returns the events before it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    seen: list[EventEnvelope] = []
    async with TopicTail(kafka, topic) as tail:
        while loop.time() <= deadline:
            for event in await tail.next_events():
                if before(event):
                    unexpected = [e for e in seen if match(e)]
                    assert not unexpected, f"unexpected events on {topic}: {unexpected}"
                    return seen
                seen.append(event)
    raise AssertionError(f"the fence event never reached {topic} within {deadline_s}s")
