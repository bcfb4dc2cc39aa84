"""The audit log: who looked at or changed what, and when. Rows are only ever added."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


async def add_audit(
    db: AsyncSession,
    *,
    officer_id: int | None,
    action: str,
    now: datetime,
    tip_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit row."""
    db.add(
        AuditLog(
            officer_id=officer_id,
            action=action,
            tip_id=tip_id,
            detail=detail[:300] if detail else None,
            created_at=now,
        )
    )
    await db.flush()


async def list_audit(
    db: AsyncSession, *, officer_id: int | None = None, tip_id: int | None = None
) -> list[AuditLog]:
    """Audit rows, oldest first, optionally for one officer and/or one tip."""
    statement = select(AuditLog).order_by(AuditLog.id)
    if officer_id is not None:
        statement = statement.where(AuditLog.officer_id == officer_id)
    if tip_id is not None:
        statement = statement.where(AuditLog.tip_id == tip_id)
    return list(await db.scalars(statement))
