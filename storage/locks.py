"""Locks every process on one database shares, each held until its transaction ends.

PostgreSQL has many writers at once: work that two processes must not do side by side (a
migration, a scheduled job, one chat's next update) takes a transaction-scoped advisory lock
first. A process that dies mid-transaction loses its connection, and PostgreSQL lets go of the
lock with it. SQLite needs none of this: every write transaction begins with its one write
lock (BEGIN IMMEDIATE), which already keeps any two of them apart, across processes too.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ARRAY, BigInteger, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_scalar

_HOLD_SQL = text("SELECT pg_advisory_xact_lock(:key)")
_HOLD = Plain(_HOLD_SQL)
# In the keys' order: PostgreSQL evaluates a select list after its ORDER BY, so long as the
# sort does not use it (documented under SELECT, "The SELECT List", since 9.6).
_HOLD_ALL = Plain(
    text(
        "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(key) FROM unnest(:keys) AS key"
        " ORDER BY key) AS held"
    ).bindparams(bindparam("keys", type_=ARRAY(BigInteger())))
)


def lock_key(name: str) -> int:
    """The advisory lock's number for a name: the same in every process, a signed 64-bit int."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def hold(db: AsyncSession, name: str) -> None:
    """Wait until no other transaction holds `name`, then hold it until this one ends."""
    if db.get_bind().dialect.name == "postgresql":
        await plain_scalar(db, _HOLD, {"key": lock_key(name)})


async def hold_all(db: AsyncSession, names: list[str]) -> None:
    """Hold several locks, taken in the order of their numbers: any two transactions taking
    overlapping sets this way never each wait for one the other holds."""
    if names and db.get_bind().dialect.name == "postgresql":
        keys = sorted({lock_key(name) for name in names})
        await plain_scalar(db, _HOLD_ALL, {"keys": keys})


def hold_on(connection: Connection, name: str) -> None:
    """The same, on a plain connection inside its transaction (migrations run on one)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_HOLD_SQL, {"key": lock_key(name)})
