"""digests: per-officer digest settings, claims, and the indexes the morning queries use

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "digest_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_digest_claim_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_claim")),
        sa.UniqueConstraint(
            "officer_id", "kind", "period", name=op.f("uq_digest_claim_officer_id")
        ),
    )
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("digests", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unreachable_reason", sa.String(length=40), nullable=True))
    op.create_index(
        "ix_tip_digest",
        "tip",
        ["created_at", "area", "category", "district_only", "urgent"],
        unique=False,
    )
    op.create_index(
        "ix_tip_open",
        "tip",
        ["status", "area", "district_only", "created_at", "status_at"],
        unique=False,
    )
    op.create_index(
        "ix_missed_patrol_open", "missed_patrol", ["closed_at", "group_id"], unique=False
    )
    op.create_index(
        "ix_thread_message_pending",
        "thread_message",
        ["role", "answered_at", "read_at"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_thread_message_pending", table_name="thread_message")
    op.drop_index("ix_missed_patrol_open", table_name="missed_patrol")
    op.drop_index("ix_tip_open", table_name="tip")
    op.drop_index("ix_tip_digest", table_name="tip")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("unreachable_reason")
        batch_op.drop_column("unreachable_at")
        batch_op.drop_column("digests")
        batch_op.drop_column("digest_time")
    op.drop_table("digest_claim")
