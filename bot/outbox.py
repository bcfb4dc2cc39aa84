"""The outbox sender: delivers queued messages to other people after their transaction commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import DeliveryError, Sender
from bot.pacing import Pacer, Priority
from bot.peers import Alone, Peers
from bot.runtime import Runtime
from handlers.common.notices import LEASE, Delivery, keep_delivery, settle_delivery, take_deliveries
from handlers.common.types import Context
from storage.outbox import Recipients

log = logging.getLogger("tipline.outbox")

# Messages (each to a different recipient) served at once: plenty to keep Telegram's 30 a
# second busy even though each chat gets about one a second, few enough to keep memory small.
CHATS_AT_ONCE = 64
# Places among those that digests never take, so that an urgent alert never waits for one.
KEPT_FOR_ALERTS = 8
# Places free for digests before a sender that is full takes more: a take for each digest
# done (two claims, each reading the whole queue) cost the field bench two thirds of its
# digests.
REFILL_AT = 8
# How often the outbox is looked at while other processes share the database (they queue
# alerts without waking this one).
SHARED_IDLE = 0.5


class OutboxSender:
    """Polls the outbox (and wakes at once when an update queued something) and delivers it.

    Each message is sent only while this sender holds its lease: the lease is renewed just
    before every platform call, and a message another sender (another process) has taken
    since is let go unsent. A recipient's messages go one at a time, in order; chats are
    served side by side, the most urgent messages first, each platform paced by its Pacer.
    Messages done make room for the next ones, eight at a time (an alert's place at once),
    so a morning of a thousand digests flows at the platform's rate with few reads of the
    queue.
    """

    def __init__(
        self,
        runtime: Runtime,
        senders: Mapping[str, Sender],
        *,
        pacers: Mapping[str, Pacer] | None = None,
        idle_seconds: float = 5,
        lease: timedelta = LEASE,
        peers: Peers | None = None,
        only: Recipients | None = None,
    ):
        self.runtime = runtime
        self.senders = senders
        self.pacers = pacers if pacers is not None else {name: Pacer() for name in senders}
        unpaced = set(senders) - set(self.pacers)
        if unpaced:
            raise ValueError(f"no Pacer for {', '.join(sorted(unpaced))}")
        self.idle_seconds = idle_seconds
        self.lease = lease
        # Of the processes sharing a database one sends the outbox, so that an officer's
        # messages keep their order and their pace; the others stand by until it is gone.
        self.peers: Peers = peers or Alone()
        # A console delivers its own person's messages only: the others wait for their console.
        self.only = only
        self._tasks: dict[int, asyncio.Task[None]] = {}  # by outbox id
        self._priorities: dict[int, Priority] = {}
        self._room = asyncio.Event()

    async def run_once(self) -> int:
        """Deliver everything due now, each recipient's messages one after another, and wait
        for it; returns how many deliveries were tried."""
        tried = 0
        while True:
            tried += await self._take()
            if not self._tasks:
                return tried
            await asyncio.wait(set(self._tasks.values()), return_when=asyncio.FIRST_COMPLETED)

    async def run_forever(self) -> None:
        """Deliver until cancelled; a failed round is logged and retried, never fatal."""
        try:
            while True:
                # Cleared before looking, so a message queued meanwhile is looked for again.
                self.runtime.outbox_ready.clear()
                self._room.clear()
                try:
                    # Takes all that is due, or all there is room for: nothing to look for again
                    # until something is queued or room is made.
                    if self.peers.leads:
                        await self._take()
                except Exception:
                    log.exception("outbox round failed")
                await self._until_work()
        finally:
            for task in self._tasks.values():
                task.cancel()  # their leases run out and the messages are tried again

    async def _until_work(self) -> None:
        """Sleep until something is queued, a delivery makes room, or the idle time passes."""
        waits = {
            asyncio.ensure_future(self.runtime.outbox_ready.wait()),
            asyncio.ensure_future(self._room.wait()),
        }
        # Another process queues without waking this one: look often enough for an alert.
        idle = self.idle_seconds if self.peers.alone else min(self.idle_seconds, SHARED_IDLE)
        _, pending = await asyncio.wait(waits, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()

    async def _take(self) -> int:
        """Lease due messages for the room there is, and start delivering them."""
        room = CHATS_AT_ONCE - len(self._tasks)
        if room <= 0:
            return 0
        # Digests waiting for the budget (answers go first) must not take every place: the
        # last ones are kept for alerts and notices. Taken most urgent first, so the first
        # take, which may end in digests, stops where the digests' places do; had it filled
        # the room, an urgent alert waited for digests that waited for the crowd's answers.
        anything = self._places_for_any()
        ctx = self.runtime.context()  # one moment for both claims
        async with self.runtime.db.transaction() as db:
            deliveries = await self._take_some(db, ctx, anything, None) if anything else []
            if anything < room:  # the places digests may not take
                deliveries += await self._take_some(db, ctx, room - anything, Priority.NOTICE)
        for delivery in deliveries:
            self._tasks[delivery.outbox_id] = asyncio.create_task(self._serve(delivery))
            self._priorities[delivery.outbox_id] = delivery.priority
        return len(deliveries)

    async def _take_some(
        self, db: AsyncSession, ctx: Context, limit: int, most: Priority | None
    ) -> list[Delivery]:
        return await take_deliveries(
            db, ctx, limit=limit, lease=self.lease, holding=self._tasks, most=most, only=self.only
        )

    def _places_for_any(self) -> int:
        """Places free for any message, digests included."""
        digests = sum(1 for priority in self._priorities.values() if priority >= Priority.DIGEST)
        room = CHATS_AT_ONCE - len(self._tasks)
        return min(room, max(CHATS_AT_ONCE - KEPT_FOR_ALERTS - digests, 0))

    async def _serve(self, delivery: Delivery) -> None:
        try:
            await self._deliver(delivery)
        except Exception:
            # The lease runs out and the message is tried again; the other chats go on.
            log.exception("outbox delivery to a %s chat failed", delivery.channel)
        finally:
            del self._tasks[delivery.outbox_id], self._priorities[delivery.outbox_id]
            # A place held for alerts is taken back at once; the others by eights.
            if delivery.priority < Priority.DIGEST or self._places_for_any() >= REFILL_AT:
                self._room.set()

    async def _deliver(self, delivery: Delivery) -> None:
        failure: DeliveryError | None = None
        sent = delivery.sent_parts
        try:
            sender = self.senders.get(delivery.channel)
            if sender is None:
                # e.g. an officer enrolled from the console while the bot runs on Telegram only.
                raise DeliveryError(f"channel {delivery.channel} is not served", permanent=True)
            pacer = self.pacers[delivery.channel]
            parts = sender.parts(delivery.chat, delivery.reply)
            # Renewed before waiting for the pacer, not inside its slot: a write transaction
            # waiting for SQLite's writer there held the send budget (the field bench sent
            # 19 messages a second of 30). Renewed again only if the wait ate into the lease.
            if not await self._still_ours(delivery, sent):
                return
            renewed = self.runtime.clock()
            for part in parts[sent:]:
                async with pacer.slot(delivery.chat, delivery.priority):
                    stale = self.runtime.clock() - renewed > self.lease / 4
                    if stale and not await self._still_ours(delivery, sent):
                        return
                    await part()
                sent += 1
                # Noted at once: should the lease run out before the next part, whoever takes
                # the message over starts after this one.
                if sent < len(parts):
                    if not await self._still_ours(delivery, sent):
                        return
                    renewed = self.runtime.clock()
        except DeliveryError as error:
            failure = error
            if error.retry_after is not None:
                self.pacers[delivery.channel].hold(error.retry_after)
        async with self.runtime.db.transaction() as db:
            settled = await settle_delivery(
                db,
                self.runtime.context(),
                delivery,
                error=str(failure) if failure else None,
                retry_after=failure.retry_after if failure else None,
                permanent=bool(failure and failure.permanent),
                sent_parts=sent,
            )
        if not settled:
            log.warning("outbox=%d was taken over while it was sent", delivery.outbox_id)
        log.info("outbox=%d channel=%s error=%s", delivery.outbox_id, delivery.channel, failure)

    async def _still_ours(self, delivery: Delivery, sent: int) -> bool:
        """Renew the lease (noting the parts out so far); False if another sender took it."""
        async with self.runtime.db.transaction() as db:
            ours = await keep_delivery(
                db, self.runtime.context(), delivery, sent_parts=sent, lease=self.lease
            )
        if not ours:
            log.warning("outbox=%d was taken over by another sender", delivery.outbox_id)
        return ours
