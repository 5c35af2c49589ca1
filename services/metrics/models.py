"""Tables of the metrics service."""

from datetime import datetime

from sqlalchemy import DateTime, String
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


class ReferralFact(Base):
    """One row per referral seen on the event stream; derived indicators aggregate these in SQL."""

    __tablename__ = "referral_fact"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    locality_code: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
