"""target keeps every version; indicator_definition keeps every definition of an indicator

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:40:00

Until now `target` held only the highest version of each target and `indicator` only its
current definition, so an as-at reading used today's target and today's direction. From here
a target version is a row (target_id, version) and a definition is a row (code, valid_from).
The existing definitions are taken as in force since the indicator was created: nothing older
was kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINITION_COLUMNS = (
    "code, name, description, unit, desired_direction, frequency, source, numerator_label, "
    "denominator_label, target_value, amber_tolerance, no_change_tolerance"
)


def upgrade() -> None:
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_constraint("pk_target", type_="primary")
        batch_op.create_primary_key("pk_target", ["target_id", "version"])

    op.create_table(
        "indicator_definition",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("desired_direction", sa.String(length=8), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("numerator_label", sa.String(length=200), nullable=True),
        sa.Column("denominator_label", sa.String(length=200), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("amber_tolerance", sa.Float(), nullable=True),
        sa.Column("no_change_tolerance", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("code", "valid_from", name=op.f("pk_indicator_definition")),
    )
    op.execute(
        f"INSERT INTO indicator_definition (valid_from, {DEFINITION_COLUMNS}) "
        f"SELECT created_at, {DEFINITION_COLUMNS} FROM indicator"
    )


def downgrade() -> None:
    op.drop_table("indicator_definition")
    op.execute(  # back to the highest version of each target
        "DELETE FROM target WHERE version < "
        "(SELECT MAX(t.version) FROM target t WHERE t.target_id = target.target_id)"
    )
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_constraint("pk_target", type_="primary")
        batch_op.create_primary_key("pk_target", ["target_id"])
