"""A throwaway service schema for testing the shared outbox, inbox and consumer."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_metadata
from shared.inbox import ProcessedEventMixin
from shared.outbox import OutboxEventMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxEventMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Tally(Base):
    """How many times the test handler applied an event for a key."""

    __tablename__ = "tally"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
