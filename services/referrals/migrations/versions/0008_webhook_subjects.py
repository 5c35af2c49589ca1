"""webhook deliveries about action plans: a nullable referral id, a plan id, and the ordering
key (`subject_key`: the referral id, or "plan:<plan id>") that keeps one endpoint's
notifications about one subject in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("subject_key", sa.String(length=60), nullable=True))
    # Every delivery so far is about a referral: its key is the referral id.
    op.execute("UPDATE webhook_delivery SET subject_key = referral_id")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.alter_column("subject_key", existing_type=sa.String(length=60), nullable=False)
        batch_op.alter_column("referral_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.drop_index("ix_webhook_delivery_order")
        batch_op.create_index(
            "ix_webhook_delivery_order", ["subscription_id", "subject_key", "seq"]
        )


def downgrade() -> None:
    # Plan notifications have no referral: they cannot survive the older shape.
    op.execute("DELETE FROM webhook_delivery WHERE referral_id IS NULL")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_order")
        batch_op.create_index(
            "ix_webhook_delivery_order", ["subscription_id", "referral_id", "seq"]
        )
        batch_op.alter_column("referral_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column("subject_key")
        batch_op.drop_column("plan_id")
