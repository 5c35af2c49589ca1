"""target.baseline_on: where a target's trajectory starts, for the one shared RAG rule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.add_column(sa.Column("baseline_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.drop_column("baseline_on")
