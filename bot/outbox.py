"""The outbox sender: delivers queued messages to other people after their transaction commits."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping

from bot.channels.base import DeliveryError, Sender
from bot.pacing import Pacer
from bot.runtime import Runtime
from handlers.notices import Delivery, settle_delivery, take_deliveries

log = logging.getLogger("tipline.outbox")

# Chats served at once: plenty to keep Telegram's 30 messages a second busy even though
# each chat gets at most one a second, few enough that leases never run out in a queue.
CHATS_AT_ONCE = 64

ChatKey = tuple[str, str]


class OutboxSender:
    """Polls the outbox (and wakes at once when an update queued something) and delivers it.

    Chats are served side by side, each chat's messages in order, every platform call paced
    by that platform's Pacer; a chat that is done makes room for the next at once, so a morning of a
    thousand digests flows at the platform's rate instead of in bursts.
    """

    def __init__(
        self,
        runtime: Runtime,
        senders: Mapping[str, Sender],
        *,
        pacers: Mapping[str, Pacer] | None = None,
        idle_seconds: float = 5,
    ):
        self.runtime = runtime
        self.senders = senders
        self.pacers = pacers if pacers is not None else {name: Pacer() for name in senders}
        unpaced = set(senders) - set(self.pacers)
        if unpaced:
            raise ValueError(f"no Pacer for {', '.join(sorted(unpaced))}")
        self.idle_seconds = idle_seconds
        self._chats: dict[ChatKey, deque[Delivery]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()

    async def run_once(self) -> int:
        """Deliver what is due now (up to a batch) and wait for it; returns how many."""
        taken = await self._take()
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        return taken

    async def run_forever(self) -> None:
        """Deliver until cancelled; a failed round is logged and retried, never fatal."""
        try:
            while True:
                try:
                    taken = await self._take()
                except Exception:
                    log.exception("outbox round failed")
                    taken = 0
                if taken and len(self._chats) < CHATS_AT_ONCE:
                    continue  # there may be more due right now
                await self._until_work()
        finally:
            for task in self._tasks:
                task.cancel()  # their leases run out and the messages are tried again

    async def _until_work(self) -> None:
        """Sleep until something is queued, a chat makes room, or the idle time passes."""
        self.runtime.outbox_ready.clear()
        self._room.clear()
        waits = {
            asyncio.ensure_future(self.runtime.outbox_ready.wait()),
            asyncio.ensure_future(self._room.wait()),
        }
        _, pending = await asyncio.wait(
            waits, timeout=self.idle_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiting in pending:
            waiting.cancel()

    async def _take(self) -> int:
        """Lease due messages for the chats there is room for, and start serving them."""
        room = CHATS_AT_ONCE - len(self._chats)
        if room <= 0:
            return 0
        async with self.runtime.db.transaction() as db:
            deliveries = await take_deliveries(db, self.runtime.context(), limit=room)
        for delivery in deliveries:
            key = (delivery.channel, delivery.chat)
            if key in self._chats:
                self._chats[key].append(delivery)  # behind that chat's earlier messages
                continue
            self._chats[key] = deque([delivery])
            task = asyncio.create_task(self._serve_chat(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(deliveries)

    async def _serve_chat(self, key: ChatKey) -> None:
        queue = self._chats[key]
        try:
            while queue:
                await self._deliver(queue.popleft())
        except Exception:
            # The lease runs out and the message is tried again; the other chats go on.
            log.exception("outbox delivery to a %s chat failed", key[0])
        finally:
            del self._chats[key]
            self._room.set()

    async def _deliver(self, delivery: Delivery) -> None:
        failure: DeliveryError | None = None
        sent = 0
        try:
            sender = self.senders.get(delivery.channel)
            if sender is None:
                # e.g. an officer enrolled from the console while the bot runs on Telegram only.
                raise DeliveryError(f"channel {delivery.channel} is not served", permanent=True)
            pacer = self.pacers[delivery.channel]
            for part in sender.parts(delivery.chat, delivery.reply)[delivery.sent_parts :]:
                async with pacer.slot(delivery.chat):
                    await part()
                sent += 1
        except DeliveryError as error:
            failure = error
            if error.retry_after is not None:
                self.pacers[delivery.channel].hold(error.retry_after)
        async with self.runtime.db.transaction() as db:
            await settle_delivery(
                db,
                self.runtime.context(),
                delivery.outbox_id,
                error=str(failure) if failure else None,
                retry_after=failure.retry_after if failure else None,
                permanent=bool(failure and failure.permanent),
                sent_parts=delivery.sent_parts + sent,
            )
        log.info("outbox=%d channel=%s error=%s", delivery.outbox_id, delivery.channel, failure)
