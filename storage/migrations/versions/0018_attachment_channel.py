"""attachment channel: which platform holds each attachment, so the desk can fetch it

Rows stored before this revision take the channel of their tip's sealed contact when the
tipster left one (exact: a draft is kept per channel, so its files came that way); otherwise
the shape of the reference decides, as the adapters write it: "console:NAME" from the console,
an http(s) address from Zalo (the Bot Platform or an Official Account: neither offers a
download, so which of the two does not matter), any other reference a Telegram file id.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE attachment SET channel = COALESCE("
        "(SELECT contact.channel FROM contact WHERE contact.tip_id = attachment.tip_id), "
        "CASE WHEN ref LIKE 'console:%' THEN 'console' "
        "WHEN ref LIKE 'http://%' OR ref LIKE 'https://%' THEN 'zalo' "
        "ELSE 'telegram' END)"
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("channel")
