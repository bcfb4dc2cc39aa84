"""Group commits: the updates waiting for SQLite's one writer share a transaction.

Under a burst, updates queue for the writer anyway; each then paid for its own session,
BEGIN IMMEDIATE and COMMIT. Taking everything that waits in one transaction pays those once
per group, and nobody's reply goes out before the group's commit. If any unit of work fails,
the whole group is rolled back and each unit runs again in a transaction of its own, so one
failing update never costs the others theirs.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database

log = logging.getLogger("tipline.storage")

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]

# Bounded so that the first update of a group does not wait behind hundreds of others.
MAX_GROUP = 32


class GroupCommit:
    """Runs units of work, several to a transaction when they arrive together."""

    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self._waiting: deque[tuple[Work, asyncio.Future[Any]]] = deque()
        self._draining: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction (perhaps shared) and return its result after the commit."""
        if not self.db.is_sqlite:
            # PostgreSQL has many writers: each update keeps a transaction of its own.
            async with self.db.transaction() as session:
                return await work(session)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        group: list[tuple[Work, asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                size = min(len(self._waiting), self.max_group)
                group = [self._waiting.popleft() for _ in range(size)]
                # A caller cancelled meanwhile (shutdown) wants no work done on its behalf.
                group = [(work, future) for work, future in group if not future.done()]
                if group:
                    await self._commit(group)
        except asyncio.CancelledError:
            # Nobody may be left waiting for a group that will never commit.
            for _, future in [*group, *self._waiting]:
                future.cancel()
            self._waiting.clear()
            raise

    async def _commit(self, group: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        try:
            async with self.db.transaction() as session:
                results = [await work(session) for work, _ in group]
        except Exception as error:
            if len(group) == 1:
                _settle(group[0][1], error=error)
                return
            log.warning("a group of %d updates rolled back; each runs alone", len(group))
            for one in group:
                await self._commit([one])
            return
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: Exception | None = None
) -> None:
    if future.done():  # its caller was cancelled (shutdown): nobody waits for the answer
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
