"""top only: the flag keeping a tip from the lower units names no level of the map

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Both engines rename a column in place and carry its indexes along (SQLite since 3.25).
    op.execute("ALTER TABLE tip RENAME COLUMN district_only TO top_only")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("ALTER TABLE tip RENAME COLUMN top_only TO district_only")
