"""SQLite on the event loop's own thread, for the one writer: no hop to a worker per call.

aiosqlite runs every call on a worker thread; a write transaction of six statements then
makes about sixty round trips through the event loop, and under a burst every other chat
waits behind the writer for all of them. SQLite calls on a local file take microseconds, so
the writer uses the standard library's driver directly, declared async so that SQLAlchemy's
asyncio layer drives it inside its greenlet with no adapter in between. The one call that can
wait is taking the write lock while another process (an operator command) holds it: that wait
is done with asyncio.sleep between non-blocking attempts, so the loop keeps serving everyone
else meanwhile.

Use this engine through sessions and run_sync: SQLAlchemy's AsyncConnection.execute() insists
that its driver awaits something and refuses one that never does (AwaitRequired).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import URL
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool
from sqlalchemy.util import await_only

# How long a writer keeps trying to take the write lock from another process, and how often.
LOCK_WAIT_SECONDS = 30.0
LOCK_RETRY_SECONDS = (0.001, 0.005, 0.02, 0.05)

DRIVER_NAME = "sqlite+tipline_inline"
BEGIN = "BEGIN IMMEDIATE"


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """The standard sqlite3 driver, called on the event loop's thread by the asyncio engine."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:
        """The pool the asyncio engine expects (it waits on the loop, never on a thread lock)."""
        return AsyncAdaptedQueuePool


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Nothing to do: the rows are read on this same thread whenever they are wanted."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = None) -> Any:
        """A cursor SQLAlchemy's asyncio layer can hand back to the caller as it is."""
        return super().cursor(factory or _Cursor)


registry.register("sqlite.tipline_inline", __name__, InlineSQLiteDialect.__name__)


def inline_engine_options(url: URL) -> tuple[URL, dict[str, Any]]:
    """The writer's URL and connect_args: the inline driver, autocommit mode, no busy wait."""
    # busy timeout 0: a locked database answers at once, and begin_immediate() waits politely.
    connect_args = {
        "isolation_level": None,
        "check_same_thread": False,
        "timeout": 0,
        "factory": _Connection,
    }
    return url.set(drivername=DRIVER_NAME), connect_args


def begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock, waiting on the event loop while another process holds it.

    Runs inside SQLAlchemy's greenlet, where await_only() lets the loop run during the wait.
    """
    raw = connection.connection.driver_connection
    # Straight to the inline driver when there is one: this runs once per update, and through
    # SQLAlchemy's statement machinery it costs ten times as much.
    execute = raw.execute if isinstance(raw, sqlite3.Connection) else connection.exec_driver_sql
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    attempt = 0
    while True:
        try:
            execute(BEGIN)
            return
        except Exception as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise _as_database_error(error) from error
        pause = LOCK_RETRY_SECONDS[min(attempt, len(LOCK_RETRY_SECONDS) - 1)]
        await_only(asyncio.sleep(pause))
        attempt += 1


def _is_busy(error: BaseException) -> bool:
    cause = getattr(error, "orig", error)
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


def _as_database_error(error: Exception) -> Exception:
    """The driver's error as SQLAlchemy raises it, so callers catch one family of errors."""
    if isinstance(error, sqlite3.Error):
        return DBAPIError.instance(BEGIN, None, error, sqlite3.Error)
    return error
