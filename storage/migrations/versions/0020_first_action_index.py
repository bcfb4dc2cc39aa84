"""first action index: a tip's history by officer and time, for the overview's response times

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # The overview finds each tip's first officer action: from this index alone, not from
    # every history row of a month of a district's tips.
    op.create_index(
        "ix_tip_event_first_action", "tip_event", ["tip_id", "officer_id", "created_at"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tip_event_first_action", table_name="tip_event")
