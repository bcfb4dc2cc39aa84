"""first action at: each tip keeps when an officer first acted on it, and an index covers what
the overview reads of a period's tips

The overview's response times read every tip of the period and, for each, its history: on a
district's month that was 80,000 lookups (a second of its two). The tip now keeps the moment
itself, written where officers act (storage/tips.py); rows stored before this revision take
the earlier of their acknowledgement and their first officer history row, a batch of ids at a
time. The history index of revision 0020 served only that lookup, and goes.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 50_000  # ids a statement: a year's backfill never holds a million new rows at once
_FIRST_EVENT = (
    "(SELECT min(e.created_at) FROM tip_event e"
    " WHERE e.tip_id = tip.id AND e.officer_id IS NOT NULL)"
)
# SQLite's min() of two values is NULL when either is, PostgreSQL's least() ignores a NULL:
# a CASE says the same on both.
_BACKFILL = sa.text(
    f"UPDATE tip SET first_action_at = CASE"
    f" WHEN acknowledged_at IS NULL THEN {_FIRST_EVENT}"
    f" WHEN {_FIRST_EVENT} IS NULL OR acknowledged_at < {_FIRST_EVENT} THEN acknowledged_at"
    f" ELSE {_FIRST_EVENT} END"
    f" WHERE id > :low AND id <= :high AND (acknowledged_at IS NOT NULL OR EXISTS"
    f" (SELECT 1 FROM tip_event e WHERE e.tip_id = tip.id AND e.officer_id IS NOT NULL))"
)
_OVERVIEW = [
    "created_at",
    "area",
    "top_only",
    "status",
    "status_at",
    "first_action_at",
    "latitude",
    "longitude",
]


def upgrade() -> None:
    """Apply this revision."""
    # A plain ADD COLUMN: batch mode would copy the table on SQLite and drop the search's
    # triggers with it (storage/models.py, SEARCH_INDEX).
    op.add_column("tip", sa.Column("first_action_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    last = int(bind.scalar(sa.text("SELECT coalesce(max(id), 0) FROM tip")) or 0)
    for low in range(0, last, BATCH):
        bind.execute(_BACKFILL, {"low": low, "high": low + BATCH})
    op.drop_index("ix_tip_event_first_action", table_name="tip_event")
    # The period's tips by status, their response times and their pins, from the index alone.
    op.create_index("ix_tip_overview", "tip", _OVERVIEW)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tip_overview", table_name="tip")
    op.create_index(
        "ix_tip_event_first_action", "tip_event", ["tip_id", "officer_id", "created_at"]
    )
    op.drop_column("tip", "first_action_at")
