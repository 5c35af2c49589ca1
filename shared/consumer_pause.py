"""Operator pauses of a consumer group, kept in the service's database so they survive restarts.

A row with topic '' and partition -1 pauses the whole group; topic 'x' with partition -1 every
partition of x; otherwise one partition. The running consumer reads the rows every few
seconds (`shared.consumer`); `pause` and `resume` write them with their audit row.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.operator_audit import (
    ALL_PARTITIONS,
    ALL_TOPICS,
    Operator,
    consumer_pause,
    record_operator_action,
)

PauseRules = frozenset[tuple[str, int]]


def is_paused(rules: PauseRules, topic: str, partition: int) -> bool:
    """Whether a rule covers this partition: the whole group, the whole topic, or it alone."""
    return bool(
        rules
        and (
            (ALL_TOPICS, ALL_PARTITIONS) in rules
            or (topic, ALL_PARTITIONS) in rules
            or (topic, partition) in rules
        )
    )


async def pause_rules(sessions: async_sessionmaker[AsyncSession], group: str) -> PauseRules:
    """The group's pauses as (topic, partition) rules."""
    async with sessions() as session:
        rows = await session.execute(
            select(consumer_pause.c.topic, consumer_pause.c.partition).where(
                consumer_pause.c.consumer_group == group
            )
        )
        return frozenset((topic, partition) for topic, partition in rows.all())


def describe_target(group: str, topic: str, partition: int) -> str:
    if topic == ALL_TOPICS:
        return group
    return f"{group}/{topic}" + ("" if partition == ALL_PARTITIONS else f"[{partition}]")


async def pause(
    session: AsyncSession, *, group: str, topic: str, partition: int, operator: Operator
) -> bool:
    """Record a pause and its audit row; False (nothing changed) when it was already paused."""
    async with session.begin():
        if (topic, partition) in await _rules_in(session, group):
            return False
        await session.execute(
            insert(consumer_pause).values(
                consumer_group=group,
                topic=topic,
                partition=partition,
                paused_by=operator.actor,
                paused_at=datetime.now(UTC),
            )
        )
        await record_operator_action(
            session,
            actor=operator.actor,
            action="consumers.pause",
            target=describe_target(group, topic, partition),
            reason=operator.reason,
            details={"group": group, "topic": topic or None, "partition": partition},
        )
    return True


async def resume(
    session: AsyncSession, *, group: str, topic: str, partition: int, operator: Operator
) -> bool:
    """Remove a pause and record it; False (nothing changed) when there was no such pause."""
    async with session.begin():
        result = await session.execute(
            delete(consumer_pause).where(
                consumer_pause.c.consumer_group == group,
                consumer_pause.c.topic == topic,
                consumer_pause.c.partition == partition,
            )
        )
        if not getattr(result, "rowcount", 0):
            return False
        await record_operator_action(
            session,
            actor=operator.actor,
            action="consumers.resume",
            target=describe_target(group, topic, partition),
            reason=operator.reason,
            details={"group": group, "topic": topic or None, "partition": partition},
        )
    return True


async def list_pauses(session: AsyncSession, group: str) -> Sequence[dict[str, Any]]:
    async with session.begin():
        rows = await session.execute(
            select(consumer_pause).where(consumer_pause.c.consumer_group == group)
        )
        return [dict(row._mapping) for row in rows.all()]


async def _rules_in(session: AsyncSession, group: str) -> PauseRules:
    rows = await session.execute(
        select(consumer_pause.c.topic, consumer_pause.c.partition).where(
            consumer_pause.c.consumer_group == group
        )
    )
    return frozenset((topic, partition) for topic, partition in rows.all())
