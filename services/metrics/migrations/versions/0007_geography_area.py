"""geography_area: wards and LSOAs of each locality, from the ONS lookup import

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geography_area",
        sa.Column("gss_code", sa.String(length=9), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locality_code", sa.String(length=16), nullable=False),
        sa.Column("ward_gss_code", sa.String(length=9), nullable=True),
        sa.Column("authority_gss_code", sa.String(length=9), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gss_code", name=op.f("pk_geography_area")),
    )
    with op.batch_alter_table("geography_area", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_geography_area_locality_code"), ["locality_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("geography_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_geography_area_locality_code"))
    op.drop_table("geography_area")
