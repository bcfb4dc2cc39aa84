"""Which Tipline processes share the database right now: each records a beat every few seconds.

A process is named by its host and the address it serves (or `TIPLINE_PROCESS_NAME`), so a
restarted one is itself again and delivers at once what it still owed. One that has not beaten
for DEAD_AFTER is taken for dead: the others deliver its answers, and the send budget is shared
among those alive. PostgreSQL is the one thing they share; there is no coordinator.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.runtime import Runtime
from storage.processes import alive_processes, beat_process, enter_process, leave_process

log = logging.getLogger("tipline.processes")

BEAT_SECONDS = 5.0
DEAD_AFTER = timedelta(seconds=20)
# A process joining others waits this long before it serves, so that each of them has beaten
# since and knows it is no longer alone (it then shares the send budget and hands answers on).
JOIN_SECONDS = 2 * BEAT_SECONDS

Watcher = Callable[[], Awaitable[object]]


def process_name(address: str) -> str:
    """This process's default name: its host and the address it serves."""
    return f"{socket.gethostname()}:{address}"[:80]


class Presence:
    """This process among the others: its name, and who else is alive."""

    def __init__(self, runtime: Runtime, name: str) -> None:
        self.runtime = runtime
        self.name = name
        self._incarnation = secrets.token_hex(8)
        self.alive: frozenset[str] = frozenset({name})
        self._watchers: list[Watcher] = []

    @property
    def alone(self) -> bool:
        """Whether no other process shares the database: then nobody needs asking."""
        return self.alive == {self.name}

    @property
    def leads(self) -> bool:
        """Whether this process is the one that sends the outbox (the first alive by name)."""
        return self.name == min(self.alive)

    def owner_of(self, chat_key: str) -> str:
        """The process alive that delivers a chat's answers: the same in every process that
        sees the same processes alive, and few chats move when one comes or goes."""
        return max(self.alive, key=lambda name: _weight(name, chat_key))

    def watch(self, watcher: Watcher) -> None:
        """Call `watcher` after every beat (to take over what a dead process left)."""
        self._watchers.append(watcher)

    async def enter(self) -> None:
        """Record this process as started and learn who else is alive."""
        async with self.runtime.db.transaction() as db:
            await enter_process(
                db, name=self.name, incarnation=self._incarnation, now=self.runtime.clock()
            )
        await self._look_around()

    async def join(self) -> None:
        """Enter, and if others are alive, give them time to learn of this process."""
        await self.enter()
        if not self.alone:
            log.info(
                "%d processes share the database: serving in %.0f s", len(self.alive), JOIN_SECONDS
            )
            await asyncio.sleep(JOIN_SECONDS)
            await self._look_around()

    async def beat_forever(self) -> None:
        """Beat every BEAT_SECONDS until cancelled; a failed beat is logged and tried again."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                await self.beat()
            except Exception:
                log.exception("beat failed; trying again")

    async def beat(self) -> None:
        """Record one beat, learn who is alive, then let the watchers act on it."""
        async with self.runtime.db.transaction() as db:
            mine = await beat_process(
                db, name=self.name, incarnation=self._incarnation, now=self.runtime.clock()
            )
        if not mine:
            log.error(
                "another process runs under this one's name (%s): give each its own "
                "TIPLINE_PROCESS_NAME",
                self.name,
            )
            await self.enter()
        await self._look_around()
        for watcher in self._watchers:
            await watcher()

    async def leave(self) -> None:
        """Forget this process at a clean stop: the others need not wait to take over."""
        async with self.runtime.db.transaction() as db:
            await leave_process(db, name=self.name, incarnation=self._incarnation)

    async def _look_around(self) -> None:
        since = self.runtime.clock() - DEAD_AFTER
        async with self.runtime.db.reading() as db:
            alive = await alive_processes(db, seen_since=since)
        before, self.alive = self.alive, frozenset(alive | {self.name})
        if before != self.alive:
            log.info("%d processes share the database", len(self.alive))


def _weight(process: str, chat_key: str) -> bytes:
    """Rendezvous hashing: a chat goes to the process whose weight for it is highest."""
    return hashlib.blake2b(f"{process}\0{chat_key}".encode(), digest_size=8).digest()
