"""queue index: the open tips' index holds urgency too, so the officers' queue sorts from it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ["status", "area", "top_only", "created_at", "status_at"]


def upgrade() -> None:
    """Apply this revision."""
    # /tips sorts the open tips urgent first: with urgency in the index, SQLite sorts a page of
    # a province's open tips from the index alone instead of reading every one of their rows.
    op.drop_index("ix_tip_open", table_name="tip")
    op.create_index("ix_tip_open", "tip", [*_BEFORE, "urgent"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tip_open", table_name="tip")
    op.create_index("ix_tip_open", "tip", _BEFORE, unique=False)
