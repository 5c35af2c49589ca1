"""partner tasks record the purpose and lawful basis of the disclosure, and their withdrawal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: tasks assigned before this rule carry no recorded basis; new ones always do.
    with op.batch_alter_table("partner_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lawful_basis", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("sharing_agreement_ref", sa.String(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdraw_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partner_task", schema=None) as batch_op:
        batch_op.drop_column("withdraw_reason")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("sharing_agreement_ref")
        batch_op.drop_column("lawful_basis")
        batch_op.drop_column("purpose")
