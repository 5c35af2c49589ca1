"""Tables of the referrals service."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
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
from shared.outbox import OutboxEventMixin, SequenceType


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


class Referral(Base):
    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_clock_running", "overdue_notified_at", "due_at"),
        # Each list filter with the list's order (newest first, keyset on received_at, id):
        # the first page is the first rows of one index, with no sort.
        Index("ix_referral_locality_received", "locality_code", "received_at", "id"),
        Index("ix_referral_status_received", "status", "received_at", "id"),
        Index("ix_referral_track_received", "track", "received_at", "id"),
        Index("ix_referral_due_at", "due_at"),  # the overdue filter
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    locality_code: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    category_codes: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by_organisation: Mapped[str] = mapped_column(String(100), index=True)
    created_by_subject: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    referrer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_person: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    place_address: Mapped[str | None] = mapped_column(Text)
    place_postcode: Mapped[str | None] = mapped_column(String(10))
    uprn: Mapped[str | None] = mapped_column(String(12), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    risk_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    lawful_basis: Mapped[str] = mapped_column(String(40), default="public_task")
    sharing_agreement_ref: Mapped[str | None] = mapped_column(String(100))
    repeat_of: Mapped[list[str]] = mapped_column(JSON, default=list)

    coordinating_organisation: Mapped[str | None] = mapped_column(String(100), index=True)
    suggested_track: Mapped[str | None] = mapped_column(String(32))
    suggestion_rule: Mapped[str | None] = mapped_column(String(100))
    track: Mapped[str | None] = mapped_column(String(32))
    triage_rationale: Mapped[str | None] = mapped_column(Text)
    lead_organisation: Mapped[str | None] = mapped_column(String(100), index=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    triaged_by_subject: Mapped[str | None] = mapped_column(String(200))
    triaged_by_organisation: Mapped[str | None] = mapped_column(String(100))

    clock: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    clock_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    outcome_code: Mapped[str | None] = mapped_column(String(32))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReferralCategory(Base):
    """One row per category code (and its parent) of a referral, for filtering."""

    __tablename__ = "referral_category"

    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    category_code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ReferenceCounter(Base):
    """Next readable reference number per locality and year."""

    __tablename__ = "reference_counter"
    __table_args__ = (UniqueConstraint("locality_code", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    locality_code: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class HistoryEntry(Base):
    """Who did what to a referral, for which organisation, and when."""

    __tablename__ = "referral_history"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_subject: Mapped[str] = mapped_column(String(200))
    actor_organisation: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PartnerTask(Base):
    __tablename__ = "partner_task"
    # The overdue check: open tasks past due that nobody was told about.
    __table_args__ = (Index("ix_partner_task_overdue", "overdue_notified_at", "due_at"),)

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assigned_by_subject: Mapped[str] = mapped_column(String(200))
    assigned_by_organisation: Mapped[str] = mapped_column(String(100))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome_code: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    # A task discloses the referral like a share does, so it records why and on what basis.
    purpose: Mapped[str | None] = mapped_column(String(200))
    lawful_basis: Mapped[str | None] = mapped_column(String(40))
    sharing_agreement_ref: Mapped[str | None] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    # When the holder was told the task is overdue (once per task).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseNote(Base):
    __tablename__ = "case_note"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UtcDateTime)
    author_subject: Mapped[str] = mapped_column(String(200))
    author_organisation: Mapped[str] = mapped_column(String(100))


class ReferralShare(Base):
    """An explicit decision to share a referral with another organisation."""

    __tablename__ = "referral_share"
    __table_args__ = (UniqueConstraint("referral_id", "organisation"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    lawful_basis: Mapped[str] = mapped_column(String(40))
    sharing_agreement_ref: Mapped[str | None] = mapped_column(String(100))
    shared_at: Mapped[datetime] = mapped_column(UtcDateTime)
    shared_by_subject: Mapped[str] = mapped_column(String(200))
    shared_by_organisation: Mapped[str] = mapped_column(String(100))


class AuditRecord(Base):
    """A read of a referral's personal fields. Append-only: the database refuses changes."""

    __tablename__ = "audit_record"

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_subject: Mapped[str] = mapped_column(String(200))
    actor_organisation: Mapped[str] = mapped_column(String(100), index=True)
    referral_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(100))


class IdempotencyRecord(Base):
    """The first answer to an intake with an `Idempotency-Key`, replayed on retries."""

    __tablename__ = "idempotency_record"

    organisation: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    referral_id: Mapped[str] = mapped_column(String(36))
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookSubscription(Base):
    """A partner organisation's endpoint and the notifications it wants."""

    __tablename__ = "webhook_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret (`whsec_` + base64); shown to the partner once, when created or rotated.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One notification to one subscription, with its attempts so far (the delivery log)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The worker's question: pending deliveries due by now.
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # Ordering per endpoint and subject: is an earlier one still undelivered?
        Index("ix_webhook_delivery_order", "subscription_id", "subject_key", "seq"),
    )

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)  # the `webhook-id`
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    # What the notification is about: a referral, or (plan.escalated) an action plan.
    referral_id: Mapped[str | None] = mapped_column(String(36))
    plan_id: Mapped[str | None] = mapped_column(String(36))
    # Notifications with the same key reach one endpoint in order: the referral id, or
    # "plan:<plan id>" (webhook_notices.subject_key).
    subject_key: Mapped[str] = mapped_column(String(60))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When it was (re)queued: retries are given up a fixed time after this.
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
