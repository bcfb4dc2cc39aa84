"""patrols

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:24:36.826782
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "patrol_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("area", sa.String(length=24), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("join_hash", sa.String(length=64), nullable=False),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_patrol_group_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_group")),
        sa.UniqueConstraint("join_hash", name=op.f("uq_patrol_group_join_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_patrol_group_name")),
    )
    op.create_table(
        "missed_patrol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["officer.id"], name=op.f("fk_missed_patrol_closed_by_id_officer")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["patrol_group.id"], name=op.f("fk_missed_patrol_group_id_patrol_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_patrol")),
        sa.UniqueConstraint("group_id", "planned_start", name=op.f("uq_missed_patrol_group_id")),
    )
    op.create_table(
        "patrol_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["patrol_group.id"], name=op.f("fk_patrol_member_group_id_patrol_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_member")),
    )
    with op.batch_alter_table("patrol_member", schema=None) as batch_op:
        batch_op.create_index("ix_patrol_member_chat", ["channel", "chat"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_member_group_id"), ["group_id"], unique=False)

    op.create_table(
        "patrol_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("ends", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["patrol_group.id"], name=op.f("fk_patrol_slot_group_id_patrol_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_slot")),
    )
    with op.batch_alter_table("patrol_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_slot_group_id"), ["group_id"], unique=False)

    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("auto_closed", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["patrol_group.id"], name=op.f("fk_shift_group_id_patrol_group")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["patrol_member.id"], name=op.f("fk_shift_member_id_patrol_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift")),
    )
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shift_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shift_started_at"), ["started_at"], unique=False)

    op.create_table(
        "patrol_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("photo", sa.String(length=500), nullable=True),
        sa.Column("far", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shift.id"], name=op.f("fk_patrol_point_shift_id_shift")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_point")),
    )
    with op.batch_alter_table("patrol_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_point_shift_id"), ["shift_id"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("patrol_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_point_shift_id"))

    op.drop_table("patrol_point")
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_started_at"))
        batch_op.drop_index(batch_op.f("ix_shift_member_id"))
        batch_op.drop_index(batch_op.f("ix_shift_group_id"))

    op.drop_table("shift")
    with op.batch_alter_table("patrol_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_slot_group_id"))

    op.drop_table("patrol_slot")
    with op.batch_alter_table("patrol_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_member_group_id"))
        batch_op.drop_index("ix_patrol_member_chat")

    op.drop_table("patrol_member")
    op.drop_table("missed_patrol")
    op.drop_table("patrol_group")
