"""several processes: who delivers each answer, in its chat's order, who is alive, and whose
update waits in the inbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("pending_answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("owner", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("queued", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )
        batch_op.create_index("ix_pending_answer_chat", ["channel", "chat_key", "id"])
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_key", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_inbox_update_sender", ["channel", "sender_key", "position"])
    op.create_table(
        "bot_process",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("incarnation", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_process")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("bot_process")
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_update_sender")
        batch_op.drop_column("sender_key")
    with op.batch_alter_table("pending_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_answer_chat")
        batch_op.drop_column("queued")
        batch_op.drop_column("owner")
        batch_op.drop_column("chat_key")
