"""The audit log: who looked at or changed what, and when. Rows are only ever added."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit rows to read: all by default; each field set narrows them."""

    officer_id: int | None = None
    by_operator: bool = False  # only rows written from the command line, with no officer
    tip_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions, each served by one of the audit log's indexes."""
        conditions: list[ColumnElement[bool]] = []
        if self.by_operator:
            conditions.append(AuditLog.officer_id.is_(None))
        elif self.officer_id is not None:
            conditions.append(AuditLog.officer_id == self.officer_id)
        if self.tip_id is not None:
            conditions.append(AuditLog.tip_id == self.tip_id)
        if self.action is not None:
            conditions.append(AuditLog.action == self.action)
        if self.since is not None:
            conditions.append(AuditLog.created_at >= self.since)
        if self.until is not None:
            conditions.append(AuditLog.created_at < self.until)
        return conditions


async def list_audit_page(
    db: AsyncSession, chosen: AuditFilter, *, offset: int, limit: int
) -> tuple[list[AuditLog], int]:
    """A page of the chosen audit rows, newest first, and how many there are in all."""
    where = chosen.where()
    rows = await db.scalars(
        select(AuditLog)
        .where(*where)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset(offset)
        .limit(limit)
    )
    total = await db.scalar(select(func.count()).select_from(AuditLog).where(*where))
    return list(rows), int(total or 0)


async def list_audit_actions(db: AsyncSession) -> list[str]:
    """Every action the log holds, in order, each read once.

    A loose index scan: one step along ix_audit_log_action per distinct action, where DISTINCT
    would read every row of a large log.
    """
    first = select(func.min(AuditLog.action).label("action")).cte("seen", recursive=True)
    following = (
        select(func.min(AuditLog.action)).where(AuditLog.action > first.c.action).scalar_subquery()
    )
    seen = first.union_all(select(following).where(first.c.action.is_not(None)))
    found = await db.scalars(select(seen.c.action).where(seen.c.action.is_not(None)))
    return list(found)
