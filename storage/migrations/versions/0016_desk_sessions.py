"""desk sessions: one-time sign-in links and browser sessions for the officers' web desk

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "desk_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_desk_link_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_link_token_hash")),
    )
    op.create_index(op.f("ix_desk_link_officer_id"), "desk_link", ["officer_id"])
    op.create_table(
        "desk_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_desk_session_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_session_token_hash")),
    )
    op.create_index(op.f("ix_desk_session_officer_id"), "desk_session", ["officer_id"])


def downgrade() -> None:
    """Revert this revision (everyone signed in to the desk is signed out)."""
    op.drop_index(op.f("ix_desk_session_officer_id"), table_name="desk_session")
    op.drop_table("desk_session")
    op.drop_index(op.f("ix_desk_link_officer_id"), table_name="desk_link")
    op.drop_table("desk_link")
