"""durable answers: replies kept until delivered, polled updates kept until handled

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "pending_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("box", sa.LargeBinary(), nullable=False),
        sa.Column("sent_parts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_answer")),
        sa.UniqueConstraint("key", name=op.f("uq_pending_answer_key")),
    )
    op.create_table(
        "inbox_update",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("box", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inbox_update")),
    )
    op.create_index(
        "ix_inbox_update_position", "inbox_update", ["channel", "position"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_inbox_update_position", table_name="inbox_update")
    op.drop_table("inbox_update")
    op.drop_table("pending_answer")
