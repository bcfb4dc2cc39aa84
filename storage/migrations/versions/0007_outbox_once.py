"""outbox once: a priority per message, the lease token of the sender holding it, its sent parts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The parts a retried message already delivered move from its payload to a column of their
# own (and back on downgrade), so renewing a lease can record them without rewriting the JSON.
_TO_COLUMN = {
    "sqlite": (
        "UPDATE outbox SET sent_parts = CAST(json_extract(payload, '$.sent_parts') AS INTEGER),"
        " payload = json_remove(payload, '$.sent_parts')"
        " WHERE json_extract(payload, '$.sent_parts') IS NOT NULL"
    ),
    "postgresql": (
        "UPDATE outbox SET sent_parts = CAST(payload ->> 'sent_parts' AS INTEGER),"
        " payload = CAST(CAST(payload AS JSONB) - 'sent_parts' AS JSON)"
        " WHERE payload ->> 'sent_parts' IS NOT NULL"
    ),
}
_TO_PAYLOAD = {
    "sqlite": (
        "UPDATE outbox SET payload = json_set(payload, '$.sent_parts', sent_parts)"
        " WHERE sent_parts > 0"
    ),
    "postgresql": (
        "UPDATE outbox SET payload = CAST(CAST(payload AS JSONB)"
        " || jsonb_build_object('sent_parts', sent_parts) AS JSON) WHERE sent_parts > 0"
    ),
}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), server_default=sa.text("2"), nullable=False)
        )
        batch_op.add_column(sa.Column("lease", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("sent_parts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.execute(_TO_COLUMN[op.get_bind().dialect.name])


def downgrade() -> None:
    """Revert this revision."""
    op.execute(_TO_PAYLOAD[op.get_bind().dialect.name])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("sent_parts")
        batch_op.drop_column("lease")
        batch_op.drop_column("priority")
