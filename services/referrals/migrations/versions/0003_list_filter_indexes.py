"""list filter indexes: each filter of GET /referrals together with the list's order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The single-column indexes on these columns are the leading columns of the new ones: dropped,
# so an intake maintains three indexes fewer.
REPLACED = {"locality_code": "locality", "status": "status", "track": "track"}


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        for column, short in REPLACED.items():
            batch_op.create_index(
                f"ix_referral_{short}_received", [column, "received_at", "id"], unique=False
            )
            batch_op.drop_index(batch_op.f(f"ix_referral_{column}"))
        batch_op.create_index("ix_referral_due_at", ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_due_at")
        for column, short in REPLACED.items():
            batch_op.create_index(batch_op.f(f"ix_referral_{column}"), [column], unique=False)
            batch_op.drop_index(f"ix_referral_{short}_received")
