"""Idempotence and rate limits: what was already processed, how often someone acted, and how
many wrong passphrases they typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_execute, plain_row, plain_scalar
from storage.models import PassphraseTries, ProcessedUpdate, RateBucket, UTCDateTime

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

# Tries that stopped counting (expired) start again from one.
_WRONG_PASSPHRASE = Plain(
    text(
        "INSERT INTO passphrase_tries (digest, failed, expires_at) "
        "VALUES (:digest, 1, :expires_at) "
        "ON CONFLICT (digest) DO UPDATE SET failed = CASE "
        "WHEN passphrase_tries.expires_at > :now THEN passphrase_tries.failed + 1 ELSE 1 END, "
        "expires_at = :expires_at RETURNING failed"
    ).bindparams(
        bindparam("now", type_=UTCDateTime()), bindparam("expires_at", type_=UTCDateTime())
    )
)
_TRIES = Plain(
    select(PassphraseTries.failed, PassphraseTries.expires_at).where(
        PassphraseTries.digest == bindparam("digest"),
        PassphraseTries.expires_at > bindparam("now", type_=UTCDateTime()),
    )
)
_FORGET_TRIES = Plain(delete(PassphraseTries).where(PassphraseTries.digest == bindparam("digest")))


@dataclass(frozen=True, slots=True)
class Tries:
    """Wrong passphrases that still count, and until when they do."""

    failed: int
    until: datetime


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


async def passphrase_tries(db: AsyncSession, *, digest: str, now: datetime) -> Tries | None:
    """The wrong passphrases counted under a digest that still count at `now`, if any."""
    row = await plain_row(db, _TRIES, {"digest": digest, "now": now})
    return None if row is None else Tries(int(row[0]), row[1])


async def count_wrong_passphrase(
    db: AsyncSession, *, digest: str, now: datetime, until: datetime
) -> Tries:
    """Count one more wrong passphrase under a digest; the count then lasts until `until`."""
    values = {"digest": digest, "now": now, "expires_at": until}
    return Tries(int(await plain_scalar(db, _WRONG_PASSPHRASE, values)), until)


async def forget_passphrase_tries(db: AsyncSession, *, digest: str) -> None:
    """Forget the wrong passphrases counted under a digest (the right one was typed)."""
    await plain_execute(db, _FORGET_TRIES, {"digest": digest})


async def prune_guards(
    db: AsyncSession, *, updates_before: datetime, buckets_before: datetime, now: datetime
) -> None:
    """Forget processed-update keys, rate windows and passphrase tries nobody needs any more."""
    await db.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < updates_before))
    await db.execute(delete(RateBucket).where(RateBucket.window_start < buckets_before))
    await db.execute(delete(PassphraseTries).where(PassphraseTries.expires_at <= now))
