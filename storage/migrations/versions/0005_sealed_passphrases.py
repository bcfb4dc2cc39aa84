"""sealed passphrases: a partial index over tips whose passphrase still waits for its hash

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = sa.text("passphrase_hash LIKE 'sealed$%'")


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        "ix_tip_sealed_passphrase",
        "tip",
        ["id"],
        unique=False,
        sqlite_where=SEALED,
        postgresql_where=SEALED,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tip_sealed_passphrase", table_name="tip")
