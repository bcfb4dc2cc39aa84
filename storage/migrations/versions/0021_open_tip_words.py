"""open tip words: on PostgreSQL, the open tips' words in an index of their own, so that a
search of the desk's queue reads a few thousand entries instead of the whole map's

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage/finding.py searches open tips by this index's expression (_POSTGRESQL_OPEN_WORDS).


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "sqlite":
        return  # FTS5 (migration 0019) finds any tip's words; only PostgreSQL's GIN needs it
    # The words of ix_tip_words (0019) as that index holds them, read from it so that the two
    # cannot differ; `strip` drops their places in the text, which no search asks for, and
    # makes the expression this index's own (finding.py names it for open tips alone).
    words = op.get_bind().scalar(
        text(
            "SELECT pg_get_expr(indexprs, indrelid) FROM pg_index"
            " WHERE indexrelid = 'ix_tip_words'::regclass"
        )
    )
    # The open statuses of storage.tips.OPEN_STATUSES as they stand at this revision. Named
    # after ix_tip_words, so that the models' comparison leaves it out as it does that one.
    op.execute(
        f"CREATE INDEX ix_tip_words_open ON tip USING gin (strip({words}))"
        " WHERE status IN ('received', 'verifying')"
    )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX ix_tip_words_open")
