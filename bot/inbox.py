"""Polled updates kept, sealed, until handled: confirming them to the platform loses none.

Telegram forgets an update once a later getUpdates call confirms it; a process killed between
that call and the update's commit lost it for good. So each polled batch is stored first (one
short transaction), confirmed after, and each update deleted in the transaction that handles
it. The raw update holds who sent it, so it is sealed with the server secret like an address.
Zalo's getUpdates hands each update out once, with no offset: each is kept before the next
call, so a kill loses at most the one arriving at that moment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from storage.inbox import Kept, add_inbox, list_inbox, remove_inbox

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

    async def keep(self, batch: list[JSONDict]) -> None:
        """Store a polled batch; returns once it is committed."""
        rows = [kept for kept in map(self._kept, batch) if kept is not None]
        await self._store(rows)

    def _kept(self, update: JSONDict) -> Kept | None:
        found = self.key_of(update)
        if found is None:
            return None  # nothing to key it by: it is refused as unreadable when handled
        key, position = found
        box = self.runtime.sealer.seal(json.dumps(update), bound_to=f"inbox:{key}")
        return Kept(key, position, box)

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
