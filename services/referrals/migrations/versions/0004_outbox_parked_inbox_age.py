"""outbox parked rows; processed_event pruned by age

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:49:00.648371
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.create_index("ix_processed_event_processed_at", ["processed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_event_processed_at")

    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_column("parked_at")
