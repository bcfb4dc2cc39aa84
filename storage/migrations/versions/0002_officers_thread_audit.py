"""officers, thread, audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:39:43.163158
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=24), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("chat", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column(
            "alerts",
            sa.Enum("all", "urgent", "off", name="alertlevel", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer")),
        sa.UniqueConstraint("channel", "chat", name=op.f("uq_officer_channel")),
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["officer.id"], name=op.f("fk_invite_created_by_id_officer")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_invite_officer_id_officer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invite_code_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_audit_log_officer_id_officer")
        ),
        sa.ForeignKeyConstraint(["tip_id"], ["tip.id"], name=op.f("fk_audit_log_tip_id_tip")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_tip_id"), ["tip_id"], unique=False)
    _forbid_audit_changes()

    op.create_table(
        "thread_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("question", "answer", name="threadrole", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officer.id"], name=op.f("fk_thread_message_officer_id_officer")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["thread_message.id"],
            name=op.f("fk_thread_message_question_id_thread_message"),
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tip.id"], name=op.f("fk_thread_message_tip_id_tip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_message")),
    )
    with op.batch_alter_table("thread_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thread_message_tip_id"), ["tip_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_officer_id_officer"), "officer", ["officer_id"], ["id"]
        )

    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("district_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("assigned_officer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_tip_area_created_at", ["area", "created_at"], unique=False)
        batch_op.create_index("ix_tip_status_status_at", ["status", "status_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tip_acknowledged_by_id_officer"),
            "officer",
            ["acknowledged_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tip_assigned_officer_id_officer"),
            "officer",
            ["assigned_officer_id"],
            ["id"],
        )

    # Tips filed before this revision last changed status when they were filed.
    op.execute("UPDATE tip SET status_at = created_at")
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.alter_column("status_at", existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table("tip_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_officer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tip_event_assigned_officer_id_officer"),
            "officer",
            ["assigned_officer_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tip_event_officer_id_officer"), "officer", ["officer_id"], ["id"]
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("tip_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tip_event_officer_id_officer"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_tip_event_assigned_officer_id_officer"), type_="foreignkey"
        )
        batch_op.drop_column("assigned_officer_id")
        batch_op.drop_column("officer_id")
        batch_op.drop_column("note")

    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tip_assigned_officer_id_officer"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_tip_acknowledged_by_id_officer"), type_="foreignkey"
        )
        batch_op.drop_index("ix_tip_status_status_at")
        batch_op.drop_index("ix_tip_area_created_at")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("acknowledged_by_id")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("assigned_officer_id")
        batch_op.drop_column("district_only")
        batch_op.drop_column("status_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_officer_id_officer"), type_="foreignkey")
        batch_op.drop_column("officer_id")

    with op.batch_alter_table("thread_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_message_tip_id"))

    op.drop_table("thread_message")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_tip_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_officer_id"))

    op.drop_table("audit_log")
    op.drop_table("invite")
    op.drop_table("officer")


def _forbid_audit_changes() -> None:
    """Make audit_log append-only in the database itself, whatever the code above it does.

    A later SQLite batch migration that recreates audit_log must create these triggers again.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
