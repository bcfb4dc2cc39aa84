"""Idempotence and rate limits: what was already processed, and how often someone acted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, RateBucket


def _insert(db: AsyncSession, model: type[Any]) -> Any:
    dialect = db.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def claim_update(db: AsyncSession, *, key: str, now: datetime) -> bool:
    """True the first time an update key is seen; False for every redelivery."""
    statement = (
        _insert(db, ProcessedUpdate)
        .values(key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ProcessedUpdate.key)
    )
    return (await db.scalar(statement)) is not None


async def count_action(
    db: AsyncSession, *, sender: str, action: str, window_start: datetime
) -> int:
    """Count one more action by a sender in a window and return the count so far."""
    statement = _insert(db, RateBucket).values(
        sender=sender, action=action, window_start=window_start, count=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=["sender", "action", "window_start"],
        set_={"count": RateBucket.count + 1},
    ).returning(RateBucket.count)
    return int(await db.scalar(statement) or 0)


async def get_action_count(
    db: AsyncSession, *, sender: str, action: str, window_start: datetime
) -> int:
    """How many times a sender did an action in a window, without counting a new one."""
    row = await db.get(RateBucket, (sender, action, window_start))
    return row.count if row else 0


async def prune_guards(
    db: AsyncSession, *, updates_before: datetime, buckets_before: datetime
) -> None:
    """Forget processed-update keys and rate windows nobody needs any more."""
    await db.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < updates_before))
    await db.execute(delete(RateBucket).where(RateBucket.window_start < buckets_before))
