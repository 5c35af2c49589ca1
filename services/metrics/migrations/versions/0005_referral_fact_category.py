"""referral fact categories: the categories each referral was received under

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:19:00.816916
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_fact_category",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "referral_id", "category_code", name=op.f("pk_referral_fact_category")
        ),
    )


def downgrade() -> None:
    op.drop_table("referral_fact_category")
