"""duplicate of: a tip closed as a duplicate points at the tip it repeats

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tip_duplicate_of_id_tip"), "tip", ["duplicate_of_id"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tip_duplicate_of_id_tip"), type_="foreignkey")
        batch_op.drop_column("duplicate_of_id")
