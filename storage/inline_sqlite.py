"""SQLite on the event loop's own thread, for the one writer: no hop to a worker per call.

aiosqlite runs every call on a worker thread; a write transaction of six statements then
makes about sixty round trips through the event loop, and under a burst every other chat
waits behind the writer for all of them. SQLite calls on a local file take microseconds, so
the writer runs them inline. The one call that can wait is taking the write lock while
another process (an operator command) holds it: that wait is done with asyncio.sleep between
non-blocking attempts, so the loop keeps serving everyone else meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.util import await_only

# How long a writer keeps trying to take the write lock from another process, and how often.
LOCK_WAIT_SECONDS = 30.0
LOCK_RETRY_SECONDS = (0.001, 0.005, 0.02, 0.05)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's interface with every call made directly, on the caller's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # SQLAlchemy's adapter queues the isolation-level change on aiosqlite's worker queue.
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()

    def stop(self) -> None:
        """Close the file (there is no worker thread to stop)."""
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """Close the file."""
        self.stop()


class _RunNow:
    """Stands in for aiosqlite's worker queue: runs each queued call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        """Run the call and settle its future."""
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


def inline_creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy that opens `path` as an InlineConnection."""
    # busy_timeout 0: a locked database answers at once, and begin_immediate() waits politely.
    connector = partial(
        sqlite3.connect, path, isolation_level=None, check_same_thread=False, timeout=0
    )

    async def create() -> InlineConnection:
        return await InlineConnection(connector)

    return create


def begin_immediate(execute: Callable[[str], Any]) -> None:
    """Take SQLite's write lock, waiting on the event loop while another process holds it.

    Runs inside SQLAlchemy's greenlet, where await_only() lets the loop run during the wait.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    attempt = 0
    while True:
        try:
            execute("BEGIN IMMEDIATE")
            return
        except Exception as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
        pause = LOCK_RETRY_SECONDS[min(attempt, len(LOCK_RETRY_SECONDS) - 1)]
        await_only(asyncio.sleep(pause))
        attempt += 1


def _is_busy(error: BaseException) -> bool:
    cause = getattr(error, "orig", error)
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)
