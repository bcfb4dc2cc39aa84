"""Group commits: the updates waiting for the database share a transaction.

Under a burst, updates queue for the writer anyway; each then paid for its own session,
BEGIN and COMMIT. Taking everything that waits in one transaction pays those once per group,
and nobody's reply goes out before the group's commit. If any unit of work fails, the whole
group is rolled back and each unit runs again in a transaction of its own, so one failing
update never costs the others theirs.

SQLite has one writer, so one group at a time. PostgreSQL takes several: a few groups commit
side by side (on two cores with PostgreSQL beside the bot, two at a time more than doubled
what one transaction per update gave: bench/README.md). A group, even of one, first takes
the locks its units need (storage/locks.py, each unit's sender) before any of them runs, in
one order shared by every process, so two groups never each wait for a lock the other holds,
and each unit's first statement sees what the lock's last holder committed
(storage/updates.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.locks import hold_all

log = logging.getLogger("tipline.storage")

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]

# Bounded so that the first update of a group does not wait behind hundreds of others.
MAX_GROUP = 32
# Groups committing at once on PostgreSQL: more only made the groups smaller and the backends
# fight for two cores (bench/README.md).
PARALLEL_GROUPS = 2


@dataclass(frozen=True, slots=True)
class _Unit:
    work: Work
    future: asyncio.Future[Any]
    holding: str | None  # the lock it needs, taken for the whole group in a shared order


class GroupCommit:
    """Runs units of work, several to a transaction when they arrive together."""

    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self._waiting: deque[_Unit] = deque()
        self._drains: set[asyncio.Task[None]] = set()
        self.parallel = 1 if db.is_sqlite else PARALLEL_GROUPS

    async def run(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, holding: str | None = None
    ) -> T:
        """Run `work` in a transaction (perhaps shared) and return its result after the commit.

        `holding`: a lock (storage/locks.py) held before `work` begins, until the commit.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Unit(work, future, holding))
        # A drain that found nothing more to take is done at once, though its done-callbacks
        # have not run yet: counted by done(), never by a callback, no work is left stranded.
        self._drains = {drain for drain in self._drains if not drain.done()}
        if len(self._drains) < self.parallel:
            self._drains.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        group: list[_Unit] = []
        try:
            while self._waiting:
                size = min(len(self._waiting), self.max_group)
                group = [self._waiting.popleft() for _ in range(size)]
                # A caller cancelled meanwhile (shutdown) wants no work done on its behalf.
                group = [unit for unit in group if not unit.future.done()]
                if group:
                    await self._commit(group)
        except asyncio.CancelledError:
            # Nobody may be left waiting for a group that will never commit.
            for unit in [*group, *self._waiting]:
                unit.future.cancel()
            self._waiting.clear()
            raise

    async def _commit(self, group: list[_Unit]) -> None:
        try:
            async with self.db.transaction() as session:
                await hold_all(session, [unit.holding for unit in group if unit.holding])
                results = [await unit.work(session) for unit in group]
        except Exception as error:
            if len(group) == 1:
                _settle(group[0].future, error=error)
                return
            log.warning("a group of %d updates rolled back; each runs alone", len(group))
            for one in group:
                await self._commit([one])
            return
        for unit, result in zip(group, results, strict=True):
            _settle(unit.future, result=result)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: Exception | None = None
) -> None:
    if future.done():  # its caller was cancelled (shutdown): nobody waits for the answer
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
