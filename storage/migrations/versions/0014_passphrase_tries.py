"""passphrase tries: wrong passphrases counted per sender and tip, under a keyed hash of both

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "passphrase_tries",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_passphrase_tries")),
    )


def downgrade() -> None:
    """Revert this revision (a sender's tries are forgotten; the tip's own count stays)."""
    op.drop_table("passphrase_tries")
