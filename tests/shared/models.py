"""A throwaway service schema for testing the shared outbox, inbox and consumer."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata
from shared.inbox import ProcessedEventMixin
from shared.operator_audit import ConsumerPauseMixin, DeadLetterDisposalMixin, OperatorActionMixin
from shared.outbox import OutboxEventMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxEventMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class OperatorAction(OperatorActionMixin, Base):
    """The audit trail of operator commands."""


class ConsumerPause(ConsumerPauseMixin, Base):
    """Consumer groups or partitions an operator paused."""


class DeadLetterDisposal(DeadLetterDisposalMixin, Base):
    """Dead letters an operator replayed or discarded."""


class Tally(Base):
    """How many times the test handler applied an event for a key."""

    __tablename__ = "tally"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
