"""Tables of the actionplans service."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.inbox import ProcessedEventMixin
from shared.outbox import OutboxEventMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxEventMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
