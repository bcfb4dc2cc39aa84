"""Idempotence and rate limits: what was already processed, and how often someone acted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_scalar
from storage.models import ProcessedUpdate, RateBucket, UTCDateTime

# Written out because the dialects' INSERT ... ON CONFLICT constructs are not cacheable:
# SQLAlchemy would compile them afresh on every update. The SQL is the same on SQLite and
# PostgreSQL.
_CLAIM = Plain(
    text(
        'INSERT INTO processed_update ("key", created_at) VALUES (:key, :now) '
        'ON CONFLICT ("key") DO NOTHING RETURNING "key"'
    ).bindparams(bindparam("now", type_=UTCDateTime()))
)
_COUNT = Plain(
    text(
        "INSERT INTO rate_bucket (sender, action, window_start, count) "
        "VALUES (:sender, :action, :window_start, 1) "
        "ON CONFLICT (sender, action, window_start) "
        "DO UPDATE SET count = rate_bucket.count + 1 RETURNING count"
    ).bindparams(bindparam("window_start", type_=UTCDateTime()))
)


_COUNTED = Plain(
    select(RateBucket.count).where(
        RateBucket.sender == bindparam("sender"),
        RateBucket.action == bindparam("action"),
        RateBucket.window_start == bindparam("window_start"),
    )
)


def message_window(now: datetime) -> datetime:
    """The one-minute rate window a message sent at `now` counts in."""
    return now.replace(second=0, microsecond=0)


async def claim_update(db: AsyncSession, *, key: str, now: datetime) -> bool:
    """True the first time an update key is seen; False for every redelivery."""
    return (await plain_scalar(db, _CLAIM, {"key": key, "now": now})) is not None


async def count_action(
    db: AsyncSession, *, sender: str, action: str, window_start: datetime
) -> int:
    """Count one more action by a sender in a window and return the count so far."""
    values = {"sender": sender, "action": action, "window_start": window_start}
    return int(await plain_scalar(db, _COUNT, values) or 0)


async def get_action_count(
    db: AsyncSession, *, sender: str, action: str, window_start: datetime
) -> int:
    """How many times a sender did an action in a window, without counting a new one."""
    values = {"sender": sender, "action": action, "window_start": window_start}
    return int(await plain_scalar(db, _COUNTED, values) or 0)


async def prune_guards(
    db: AsyncSession, *, updates_before: datetime, buckets_before: datetime
) -> None:
    """Forget processed-update keys and rate windows nobody needs any more."""
    await db.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < updates_before))
    await db.execute(delete(RateBucket).where(RateBucket.window_start < buckets_before))
