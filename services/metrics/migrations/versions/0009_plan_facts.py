"""plan_fact, plan_status_fact, plan_review_fact: action plans for the committee report

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_fact",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("locality_code", sa.String(length=16), nullable=False),
        sa.Column("lead_organisation", sa.String(length=100), nullable=False),
        sa.Column("objective_codes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_fact")),
    )
    with op.batch_alter_table("plan_fact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_fact_locality_code"), ["locality_code"], unique=False
        )
    op.create_table(
        "plan_status_fact",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "changed_at", name=op.f("pk_plan_status_fact")),
    )
    op.create_table(
        "plan_review_fact",
        sa.Column("review_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_plan_review_fact")),
    )
    with op.batch_alter_table("plan_review_fact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_review_fact_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_review_fact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_review_fact_plan_id"))
    op.drop_table("plan_review_fact")
    op.drop_table("plan_status_fact")
    with op.batch_alter_table("plan_fact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_fact_locality_code"))
    op.drop_table("plan_fact")
