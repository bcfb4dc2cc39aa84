"""offered choices: what a chat without buttons was last offered, shared by the processes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "offered_choices",
        sa.Column("chat_key", sa.String(length=32), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_key", name=op.f("pk_offered_choices")),
    )
    op.create_index(
        op.f("ix_offered_choices_updated_at"), "offered_choices", ["updated_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_offered_choices_updated_at"), table_name="offered_choices")
    op.drop_table("offered_choices")
