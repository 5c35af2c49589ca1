"""Operator actions (who, what, when, why) and the operator state they leave behind.

Every service's database has three operator tables, mixed into its declarative Base:
`operator_action` (the audit trail), `consumer_pause` (consumer groups or partitions an
operator paused) and `dead_letter_disposal` (dead letters discarded or replayed). The shared
code reads and writes them by table name, so it needs no service's models.
"""

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.columns import UtcDateTime

# Stored in `consumer_pause` when a whole group, not one partition, is paused.
ALL_TOPICS = ""
ALL_PARTITIONS = -1


class OperatorActionMixin:
    """Columns of `operator_action`: one row per change an operator made."""

    __tablename__ = "operator_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsumerPauseMixin:
    """Columns of `consumer_pause`: a paused group (topic '' and partition -1) or partition."""

    __tablename__ = "consumer_pause"

    consumer_group: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    paused_by: Mapped[str] = mapped_column(String(200))
    paused_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadLetterDisposalMixin:
    """Columns of `dead_letter_disposal`: a dead letter dealt with (discarded or replayed)."""

    __tablename__ = "dead_letter_disposal"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(100))
    disposition: Mapped[str] = mapped_column(String(20))
    disposed_by: Mapped[str] = mapped_column(String(200))
    disposed_at: Mapped[datetime] = mapped_column(UtcDateTime)


operator_action = table(
    "operator_action",
    column("id", Integer),
    column("actor", String),
    column("action", String),
    column("target", String),
    column("reason", Text),
    column("details", JSON),
    column("recorded_at", UtcDateTime),
)
consumer_pause = table(
    "consumer_pause",
    column("consumer_group", String),
    column("topic", String),
    column("partition", Integer),
    column("paused_by", String),
    column("paused_at", UtcDateTime),
)
dead_letter_disposal = table(
    "dead_letter_disposal",
    column("topic", String),
    column("partition", Integer),
    column("offset", Integer),
    column("event_id", String),
    column("disposition", String),
    column("disposed_by", String),
    column("disposed_at", UtcDateTime),
)


@dataclass(frozen=True)
class Operator:
    """Who runs a changing command, and why: recorded with the change."""

    actor: str
    reason: str | None = None


def os_user() -> str:
    """The operator's login name, the default `--actor`."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container
        return "unknown"


async def record_operator_action(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    reason: str | None,
    details: dict[str, Any] | None,
) -> None:
    """Add an audit row in the caller's transaction, so it commits with the change or not at all."""
    await session.execute(
        insert(operator_action).values(
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            details=details or {},
            recorded_at=datetime.now(UTC),
        )
    )


async def recent_operator_actions(session: AsyncSession, *, limit: int) -> Sequence[Any]:
    """The latest recorded actions, newest first."""
    result = await session.execute(
        select(operator_action).order_by(operator_action.c.id.desc()).limit(limit)
    )
    return result.all()
