"""no arrivals: webhook updates are no longer kept in the inbox under their sender

Telegram's server sends a chat's next message only after the previous one was answered 2xx,
which orders a chat's messages across processes; the arrivals that ordered them are gone. Any
left behind were taken by a webhook, which Telegram calls again until it is answered 2xx.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.execute("DELETE FROM inbox_update WHERE sender_key IS NOT NULL")
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_update_sender")
        batch_op.drop_column("sender_key")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_key", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_inbox_update_sender", ["channel", "sender_key", "position"])
