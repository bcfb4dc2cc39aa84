"""Polled updates kept, sealed, until handled: confirming them to the platform loses none.

Telegram forgets an update once a later getUpdates call confirms it; a process killed between
that call and the update's commit lost it for good. So each polled batch is stored first (one
short transaction), confirmed after, and each update deleted in the transaction that handles
it. The raw update holds who sent it, so it is sealed with the server secret like an address.
Zalo's getUpdates hands each update out once, with no offset: each is kept before the next
call, so a kill loses at most the one arriving at that moment.

With other processes on the database, a webhook keeps each update as it arrives, under a keyed
hash of its sender, so that whichever process handles the sender's next one handles it first:
a resident's steps are read in Telegram's order even when a lagging process took one of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from storage.batches import Batched
from storage.db import Database
from storage.group_commit import GroupCommit
from storage.inbox import Kept, add_inbox, earlier_from_sender, list_inbox, remove_inbox

log = logging.getLogger("tipline.inbox")

JSONDict = dict[str, Any]
# An update's dedupe key and its place in the platform's order; None if it has no usable id.
KeyOf = Callable[[JSONDict], tuple[str, int] | None]


class Inbox:
    """One channel's polled updates between the platform's hands and their commit."""

    def __init__(self, runtime: Runtime, channel: str, key_of: KeyOf) -> None:
        self.runtime = runtime
        self.channel = channel
        self.key_of = key_of
        self._arrivals = _Arrivals(runtime, channel)

    async def keep(self, batch: list[JSONDict]) -> None:
        """Store a polled batch; returns once it is committed."""
        rows = [kept for kept in map(self._kept, batch) if kept is not None]
        await self._store(rows)

    async def keep_arrival(self, update: JSONDict, sender: str) -> bool:
        """Store an update a webhook took, under its sender (a pseudonym); False if it has no
        usable id (it is refused as unreadable when handled)."""
        kept = self._kept(update, self._sender_key(sender))
        if kept is not None:
            await self._arrivals.keep(kept)
        return kept is not None

    async def close(self) -> None:
        """Release the arrivals' own connections."""
        await self._arrivals.close()

    async def earlier(self, update: JSONDict, sender: str) -> list[JSONDict]:
        """The sender's updates another process took before this one and has not handled yet,
        in the platform's order."""
        found = self.key_of(update)
        if found is None:
            return []
        async with self.runtime.db.glance() as db:
            stored = await earlier_from_sender(
                db, channel=self.channel, sender_key=self._sender_key(sender), before=found[1]
            )
        return await self._opened(stored)

    def _sender_key(self, sender: str) -> str:
        return self.runtime.sealer.digest("inbox-sender", sender)[:32]

    def _kept(self, update: JSONDict, sender_key: str | None = None) -> Kept | None:
        found = self.key_of(update)
        if found is None:
            return None  # nothing to key it by: it is refused as unreadable when handled
        key, position = found
        box = self.runtime.sealer.seal(json.dumps(update), bound_to=f"inbox:{key}")
        return Kept(key, position, box, sender_key)

    async def _store(self, rows: list[Kept]) -> None:
        async def work(db: AsyncSession) -> None:
            await add_inbox(db, channel=self.channel, updates=rows, now=self.runtime.clock())

        await self.runtime.commits.run(work)

    async def recover(self) -> list[JSONDict]:
        """The updates kept but not handled before the process stopped, in the platform's order."""
        async with self.runtime.db.reading() as db:
            stored = [(row.key, row.box) for row in await list_inbox(db, channel=self.channel)]
        updates = await self._opened(stored)
        if updates:
            log.info("%d %s updates kept from before the restart", len(updates), self.channel)
        return updates

    async def _opened(self, stored: list[tuple[str, bytes]]) -> list[JSONDict]:
        updates = []
        for key, box in stored:
            plain = self.runtime.sealer.open(box, bound_to=f"inbox:{key}")
            if plain is None:
                log.warning("inbox update %s cannot be opened (secret key changed)", key)
                await self._remove(key)
                continue
            updates.append(json.loads(plain))
        return updates

    async def forget(self, update: JSONDict) -> None:
        """Drop an update that will not be handled (unreadable, or not for this bot)."""
        found = self.key_of(update)
        if found is not None:
            await self._remove(found[0])

    async def _remove(self, key: str) -> None:
        async def work(db: AsyncSession) -> None:
            await remove_inbox(db, key=key)

        await self.runtime.commits.run(work)


class _Arrivals:
    """Webhook updates stored as they arrive: all that came meanwhile in one write, on
    connections of their own, so that a burst's handling (which may wait for another
    process's lock) never holds up the record that lets the others see them."""

    def __init__(self, runtime: Runtime, channel: str) -> None:
        self.runtime = runtime
        self.channel = channel
        self._commits: GroupCommit | None = None
        self._batches = Batched(self._own_connections, self._write)

    async def keep(self, kept: Kept) -> None:
        """Store one update; returns once it is committed."""
        await self._batches.add(kept)

    def _own_connections(self) -> GroupCommit:
        if self._commits is None:
            self._commits = GroupCommit(Database(self.runtime.db.url))
        return self._commits

    async def _write(self, db: AsyncSession, batch: list[Kept]) -> None:
        await add_inbox(db, channel=self.channel, updates=batch, now=self.runtime.clock())

    async def close(self) -> None:
        """Release the connections."""
        if self._commits is not None:
            await self._commits.db.dispose()
