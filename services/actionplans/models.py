"""Tables of the actionplans service."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import UtcDateTime
from shared.db import new_metadata
from shared.inbox import ProcessedEventMixin
from shared.operator_audit import ConsumerPauseMixin, DeadLetterDisposalMixin, OperatorActionMixin
from shared.outbox import OutboxEventMixin

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceType = BigInteger().with_variant(Integer(), "sqlite")


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


class Plan(Base):
    """An issue-based locality action plan and its working group."""

    __tablename__ = "plan"
    __table_args__ = (Index("ix_plan_locality_listing", "locality_code", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    locality_code: Mapped[str] = mapped_column(String(16))
    objective_codes: Mapped[list[str]] = mapped_column(JSON)
    lead_person: Mapped[str] = mapped_column(String(200))
    lead_organisation: Mapped[str] = mapped_column(String(100), index=True)
    member_organisations: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    review_cadence: Mapped[str] = mapped_column(String(16))
    next_review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # concurrent writers cannot both win

    def organisations(self) -> set[str]:
        """The lead and member organisations: who may edit the plan."""
        return {self.lead_organisation, *self.member_organisations}


class PlanHistory(Base):
    """One change to a plan or anything in it: who, which organisation, when, what."""

    __tablename__ = "plan_history"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    subject: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(64))  # e.g. "plan.updated", "target.rebaselined"
    entity_id: Mapped[str] = mapped_column(String(36))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class Indicator(Base):
    """What this service has learned about a PMF indicator from the metrics service's events."""

    __tablename__ = "indicator"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    desired_direction: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(50))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LatestObservation(Base):
    """The latest value of an indicator for an area (newest period, latest revision)."""

    __tablename__ = "latest_observation"

    indicator_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    observation_id: Mapped[str] = mapped_column(String(100))
    period_end: Mapped[date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trend: Mapped[str | None] = mapped_column(String(32))  # improving | worsening | ...


class Target(Base):
    """A SMART target of a plan; its numbers live in versions, its live status here."""

    __tablename__ = "target"
    __table_args__ = (Index("ix_target_indicator_area", "indicator_code", "area_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    desired_direction: Mapped[str] = mapped_column(String(8))
    direction_source: Mapped[str] = mapped_column(String(16))
    current_version: Mapped[int] = mapped_column(Integer)
    current_value: Mapped[float | None] = mapped_column(Float)
    current_period_label: Mapped[str | None] = mapped_column(String(100))
    current_period_end: Mapped[date | None] = mapped_column(Date)
    rag: Mapped[str | None] = mapped_column(String(8))
    rag_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    trend: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)  # the ETag: bumps on every change

    __mapper_args__ = {"version_id_col": version}


class TargetVersion(Base):
    """The numbers of a target as set, or re-baselined; never updated once written."""

    __tablename__ = "target_version"

    target_id: Mapped[str] = mapped_column(ForeignKey("target.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_period: Mapped[str] = mapped_column(String(100))
    baseline_on: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[date] = mapped_column(Date)
    amber_tolerance: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by_subject: Mapped[str] = mapped_column(String(200))
    set_by_organisation: Mapped[str] = mapped_column(String(100))


class Action(Base):
    """Something a partner organisation does for a plan, by a date."""

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_plan_listing", "plan_id", "created_at", "id"),
        Index("ix_action_overdue_scan", "overdue_notified_at", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    description: Mapped[str] = mapped_column(Text)
    owner_organisation: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    referral_ids: Mapped[list[str]] = mapped_column(JSON)
    # Set in the same transaction as the overdue event's outbox row: the event goes out once.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class ActionNote(Base):
    """A progress note on an action."""

    __tablename__ = "action_note"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("action.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UtcDateTime)
    subject: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100))


class Review(Base):
    """A plan's review meeting, with each target's value and RAG frozen as seen then."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_plan_listing", "plan_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    held_on: Mapped[date] = mapped_column(Date)
    organisations_present: Mapped[list[str]] = mapped_column(JSON)
    target_snapshots: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    commentary: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[list[str]] = mapped_column(JSON)
    escalations: Mapped[list[str]] = mapped_column(JSON)
    escalated: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by_subject: Mapped[str] = mapped_column(String(200))
    recorded_by_organisation: Mapped[str] = mapped_column(String(100))
