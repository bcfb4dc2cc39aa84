"""The outbox: messages to people other than the sender, queued in the sender's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, OutboxState

# Set in a session's info when it queued a message, so the sender is woken only then.
QUEUED = "outbox_queued"


def queued_in(db: AsyncSession) -> bool:
    """Whether this session queued any message."""
    return bool(db.info.get(QUEUED))


async def add_outbox(
    db: AsyncSession,
    *,
    payload: dict[str, Any],
    now: datetime,
    tip_id: int | None = None,
    officer_id: int | None = None,
) -> Outbox:
    """Queue a message; it is delivered only if the surrounding transaction commits.

    With `officer_id` it goes to that officer; otherwise to the tipster of `tip_id`.
    """
    row = Outbox(
        tip_id=tip_id,
        officer_id=officer_id,
        payload=payload,
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.add(row)
    await db.flush()
    db.info[QUEUED] = True
    return row


async def add_outbox_to_officers(
    db: AsyncSession, messages: list[tuple[int, dict[str, Any]]], *, now: datetime
) -> list[int]:
    """Queue many officers' messages in one statement; returns their ids in the same order."""
    if not messages:
        return []
    rows = [
        {
            "officer_id": officer,
            "payload": payload,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for officer, payload in messages
    ]
    statement = insert(Outbox).returning(Outbox.id, sort_by_parameter_order=True)
    ids = list(await db.scalars(statement, rows))
    db.info[QUEUED] = True
    return ids


async def claim_due_outbox(
    db: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[Outbox]:
    """Take due messages for delivery, leasing them so that another sender skips them."""
    statement = (
        select(Outbox)
        .where(Outbox.state == OutboxState.PENDING, Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = list(await db.scalars(statement))
    for row in rows:
        row.next_attempt_at = now + lease
        row.attempts += 1
    await db.flush()
    return rows


async def get_outbox(db: AsyncSession, outbox_id: int) -> Outbox | None:
    """One queued message."""
    return await db.get(Outbox, outbox_id)


async def set_outbox_result(
    db: AsyncSession,
    row: Outbox,
    *,
    state: OutboxState,
    now: datetime,
    retry_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Record how a delivery attempt ended: sent, retry later, failed for good, or dropped."""
    row.state = state
    row.last_error = error[:200] if error else None
    if state is OutboxState.SENT:
        row.sent_at = now
    if retry_at is not None:
        row.next_attempt_at = retry_at
    await db.flush()


async def list_outbox(db: AsyncSession, *, state: OutboxState | None = None) -> list[Outbox]:
    """Queued messages, oldest first (for the operator and for tests)."""
    statement = select(Outbox).order_by(Outbox.id)
    if state is not None:
        statement = statement.where(Outbox.state == state)
    return list(await db.scalars(statement))
