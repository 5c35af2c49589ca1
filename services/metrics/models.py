"""Tables of the metrics service."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import UtcDateTime
from shared.db import new_metadata
from shared.inbox import ProcessedEventMixin
from shared.operator_audit import ConsumerPauseMixin, DeadLetterDisposalMixin, OperatorActionMixin
from shared.outbox import OutboxEventMixin

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
IdType = BigInteger().with_variant(Integer(), "sqlite")


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


class Indicator(Base):
    """A PMF indicator and its current definition (each definition is kept below)."""

    __tablename__ = "indicator"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(16))
    desired_direction: Mapped[str] = mapped_column(String(8))
    frequency: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    numerator_label: Mapped[str | None] = mapped_column(String(200))
    denominator_label: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[float | None] = mapped_column(Float)
    amber_tolerance: Mapped[float | None] = mapped_column(Float)
    no_change_tolerance: Mapped[float] = mapped_column(Float, default=0.05)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IndicatorDefinition(Base):
    """A definition of an indicator in force from `valid_from`: an edit adds one, so a reading
    as at an earlier time uses the direction and unit of that time."""

    __tablename__ = "indicator_definition"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(16))
    desired_direction: Mapped[str] = mapped_column(String(8))
    frequency: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    numerator_label: Mapped[str | None] = mapped_column(String(200))
    denominator_label: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[float | None] = mapped_column(Float)
    amber_tolerance: Mapped[float | None] = mapped_column(Float)
    no_change_tolerance: Mapped[float] = mapped_column(Float, default=0.05)


DEFINITION_FIELDS = tuple(
    c.key for c in IndicatorDefinition.__table__.c if c.key not in ("code", "valid_from")
)


class Observation(Base):
    """A value for an indicator, area and period; a revision supersedes, never overwrites."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("indicator_code", "area_code", "period_start", "revision"),
        Index("ix_observation_series", "indicator_code", "area_code", "period_start"),
        Index("ix_observation_area_current", "area_code", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    indicator_code: Mapped[str] = mapped_column(String(64))
    area_code: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Target(Base):
    """A version of a SMART target from the actionplans events; every version is kept, so an
    as-at reading uses the version in force then (the latest one set by that time)."""

    __tablename__ = "target"
    __table_args__ = (Index("ix_target_indicator_area", "indicator_code", "area_code"),)

    target_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    indicator_code: Mapped[str] = mapped_column(String(64))
    area_code: Mapped[str] = mapped_column(String(32))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_period: Mapped[str] = mapped_column(String(64))
    baseline_on: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[date] = mapped_column(Date)
    amber_tolerance: Mapped[float] = mapped_column(Float)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IndicatorStatus(Base):
    """The last status and RAG announced per indicator and area, to detect flips."""

    __tablename__ = "indicator_status"

    indicator_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    rag: Mapped[str | None] = mapped_column(String(8))
    period_label: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReferralFact(Base):
    """One row per referral seen on the event stream; derived indicators aggregate these in SQL."""

    __tablename__ = "referral_fact"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    locality_code: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    track: Mapped[str | None] = mapped_column(String(32))
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Stored at resolution so the median needs no engine-specific date arithmetic.
    resolution_days: Mapped[float | None] = mapped_column(Float)
    within_due: Mapped[bool | None] = mapped_column(Boolean)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class ReferralFactCategory(Base):
    """A category a referral was received under (a referral may have several)."""

    __tablename__ = "referral_fact_category"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(64), primary_key=True)


class ActionFact(Base):
    """One row per action plan action seen on the event stream."""

    __tablename__ = "action_fact"

    action_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    locality_code: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class PlanFact(Base):
    """An action plan as its events describe it: codes only (its title never leaves actionplans)."""

    __tablename__ = "plan_fact"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    locality_code: Mapped[str] = mapped_column(String(16), index=True)
    lead_organisation: Mapped[str] = mapped_column(String(100))
    objective_codes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PlanStatusFact(Base):
    """A plan's status from a moment on: its history, so a report as at a date shows it then."""

    __tablename__ = "plan_status_fact"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))


class PlanReviewFact(Base):
    """A plan's review meeting with each target's RAG as frozen then (ids, codes, numbers)."""

    __tablename__ = "plan_review_fact"

    review_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(36), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the event announced it
    # [{"target_id", "indicator_code", "area_code", "value", "target_value", "rag"}, ...]
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class GeographyArea(Base):
    """A ward or LSOA of a locality, from the ONS lookup import (replaced whole each time)."""

    __tablename__ = "geography_area"

    gss_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "ward" | "lsoa"
    name: Mapped[str] = mapped_column(String(200))
    locality_code: Mapped[str] = mapped_column(String(16), index=True)
    ward_gss_code: Mapped[str | None] = mapped_column(String(9))
    authority_gss_code: Mapped[str] = mapped_column(String(9))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
