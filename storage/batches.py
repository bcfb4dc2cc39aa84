"""Small writes that share a transaction: what comes while one commits goes in the next.

On PostgreSQL every transaction costs two round trips of its own (BEGIN, COMMIT) and a WAL
flush; for rows nobody reads at once (an answer delivered, an update that arrived) a burst's
hundred single-row writes become a few writes of many rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("tipline.storage")

T = TypeVar("T")
Write = Callable[[AsyncSession, list[T]], Awaitable[None]]


class Transactions(Protocol):
    """Runs a unit of work in a transaction (GroupCommit: perhaps shared with others)."""

    async def run(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Run `work` in a transaction and return after the commit."""


class Batched(Generic[T]):
    """Items written many to a transaction; each `add` returns once its item is committed."""

    def __init__(self, transactions: Callable[[], Transactions], write: Write[T]) -> None:
        self._transactions = transactions
        self._write_batch = write
        self._waiting: list[tuple[T, asyncio.Future[None] | None]] = []
        self._writing: asyncio.Task[None] | None = None

    async def add(self, item: T) -> None:
        """Write one item, with whatever else is waiting; raises what the write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        self._start()
        await done

    def later(self, item: T) -> None:
        """Write one item soon, with whatever else is waiting, without waiting for it (a write
        that fails is logged and its items dropped)."""
        self._waiting.append((item, None))
        self._start()

    async def flush(self) -> None:
        """Wait until everything handed over so far was written (or failed)."""
        while self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)

    def _start(self) -> None:
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write())

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            items = [item for item, _ in batch]

            async def work(session: AsyncSession, items: list[T] = items) -> None:
                await self._write_batch(session, items)

            try:
                await self._transactions().run(work)
            except Exception as error:
                if any(done is None for _, done in batch):
                    log.exception("%d items not written", len(batch))
                _settle(batch, error)
            else:
                _settle(batch, None)


def _settle(batch: list[tuple[T, asyncio.Future[None] | None]], error: Exception | None) -> None:
    for _, done in batch:
        if done is None or done.done():  # nobody waits for it, or its caller was cancelled
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
