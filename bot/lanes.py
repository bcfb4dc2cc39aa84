"""One lane per chat: updates of one chat in order, different chats at the same time."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram.ext import BaseUpdateProcessor

log = logging.getLogger("tipline.lanes")


def lane_key(update: object) -> Hashable:
    """The chat a Bot API update belongs to; updates without a chat get a lane of their own."""
    if not isinstance(update, dict):
        return ("object", id(update))
    query = update.get("callback_query")
    message = (
        update.get("message")
        or update.get("edited_message")
        or (query.get("message") if isinstance(query, dict) else None)
    )
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
        return int(chat["id"])
    return ("update", update.get("update_id"))


class ChatLanes(BaseUpdateProcessor):
    """Runs a chat's updates one after another while other chats proceed concurrently.

    An update for a busy chat is queued behind that chat's running update and its slot is
    released at once, so one flooding chat holds one slot, never all of them.
    """

    def __init__(self, max_concurrent_chats: int = 256) -> None:
        super().__init__(max_concurrent_chats)
        self._queued: dict[Hashable, deque[Awaitable[Any]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update now if its chat is idle, else queue it behind the chat's running one."""
        key = lane_key(update)
        queue = self._queued.get(key)
        if queue is not None:
            queue.append(coroutine)
            return
        queue = self._queued[key] = deque([coroutine])
        try:
            while queue:
                try:
                    await queue[0]
                except Exception:
                    log.exception("update in lane failed")
                queue.popleft()
        finally:
            del self._queued[key]

    @property
    def busy_chats(self) -> int:
        """How many chats have an update running or queued."""
        return len(self._queued)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release; queued updates finish with their lanes."""
