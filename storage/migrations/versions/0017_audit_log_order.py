"""audit log order: the admins' audit page reads newest first, by officer, tip, action or period

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each of the audit page's filters, with the page's order (newest first) after it. Indexes
# only: audit_log itself and its append-only triggers stay as they are.
_ORDERED = {
    "ix_audit_log_created_at": ["created_at", "id"],
    "ix_audit_log_officer": ["officer_id", "created_at", "id"],
    "ix_audit_log_tip": ["tip_id", "created_at", "id"],
    "ix_audit_log_action": ["action", "created_at", "id"],
}
# What 0002 made, and the new ones replace: an index led by the same column.
_BEFORE = {"ix_audit_log_officer_id": ["officer_id"], "ix_audit_log_tip_id": ["tip_id"]}


def upgrade() -> None:
    """Apply this revision."""
    for name in _BEFORE:
        op.drop_index(name, table_name="audit_log")
    for name, columns in _ORDERED.items():
        op.create_index(name, "audit_log", columns, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name in _ORDERED:
        op.drop_index(name, table_name="audit_log")
    for name, columns in _BEFORE.items():
        op.create_index(name, "audit_log", columns, unique=False)
