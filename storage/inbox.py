"""The inbox: polled updates kept until handled, so that confirming them loses none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, one_of, plain_execute
from storage.models import InboxUpdate, UTCDateTime

# Written out for the same reason as the update claim (storage/guards.py); a redelivered
# update that is still waiting here is not stored twice.
_ADD = text(
    'INSERT INTO inbox_update ("key", channel, position, box, created_at) '
    "VALUES (:key, :channel, :position, :box, :now) "
    'ON CONFLICT ("key") DO NOTHING'
).bindparams(bindparam("now", type_=UTCDateTime()))
_REMOVE = Plain(text('DELETE FROM inbox_update WHERE "key" = :key'))


@dataclass(frozen=True, slots=True)
class Kept:
    """An update as the inbox keeps it: sealed, in the platform's order."""

    key: str
    position: int
    box: bytes


async def add_inbox(
    db: AsyncSession, *, channel: str, updates: Sequence[Kept], now: datetime
) -> None:
    """Keep a batch of updates until each is handled."""
    rows = [
        {
            "key": kept.key,
            "channel": channel,
            "position": kept.position,
            "box": kept.box,
            "now": now,
        }
        for kept in updates
    ]
    if rows:
        await db.execute(_ADD, rows)


async def remove_inbox(db: AsyncSession, *, key: str) -> None:
    """Forget an update: it was handled (or found unreadable) in this transaction."""
    await plain_execute(db, _REMOVE, {"key": key})


async def remove_handled(db: AsyncSession, keys: list[str]) -> None:
    """Forget updates handled in transactions of their own (their claims guard a replay)."""
    await db.execute(delete(InboxUpdate).where(one_of(db, InboxUpdate.key, keys)))


async def list_inbox(db: AsyncSession, *, channel: str) -> list[InboxUpdate]:
    """The updates a channel polled but never handled, in the platform's order."""
    statement = select(InboxUpdate).where(InboxUpdate.channel == channel)
    return list(await db.scalars(statement.order_by(InboxUpdate.position)))
