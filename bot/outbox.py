"""The outbox sender: delivers queued messages to other people after their transaction commits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from bot.channels.base import DeliveryError, Sender
from bot.pacing import Pacer
from bot.runtime import Runtime
from handlers.notices import Delivery, settle_delivery, take_deliveries

log = logging.getLogger("tipline.outbox")

# About two seconds of sending at Telegram's broadcast rate: short leases, steady flow.
BATCH = 50


class OutboxSender:
    """Polls the outbox (and wakes at once when an update queued something) and delivers it.

    Chats are served side by side, each chat's messages in order, every platform call paced
    by one Pacer, so that a morning of a thousand digests spreads out instead of bursting.
    """

    def __init__(
        self,
        runtime: Runtime,
        senders: dict[str, Sender],
        *,
        idle_seconds: float = 5,
        pacer: Pacer | None = None,
    ):
        self.runtime = runtime
        self.senders = senders
        self.idle_seconds = idle_seconds
        self.pacer = pacer or Pacer()

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many deliveries were attempted."""
        async with self.runtime.db.transaction() as db:
            ctx = self.runtime.context()
            deliveries = await take_deliveries(db, ctx, limit=BATCH)
        by_chat: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            by_chat[delivery.channel, delivery.chat].append(delivery)
        results = await asyncio.gather(
            *(self._deliver_in_order(queue) for queue in by_chat.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                # Its lease runs out and the message is tried again; the others went out.
                log.error("outbox delivery failed: %s", type(result).__name__)
        return len(deliveries)

    async def _deliver_in_order(self, queue: list[Delivery]) -> None:
        for delivery in queue:
            await self._deliver(delivery)

    async def _deliver(self, delivery: Delivery) -> None:
        failure: DeliveryError | None = None
        sent = 0
        try:
            sender = self.senders.get(delivery.channel)
            if sender is None:
                # e.g. an officer enrolled from the console while the bot runs on Telegram only.
                raise DeliveryError(f"channel {delivery.channel} is not served", permanent=True)
            address = f"{delivery.channel}:{delivery.chat}"
            for part in sender.parts(delivery.chat, delivery.reply)[delivery.sent_parts :]:
                async with self.pacer.slot(address):
                    await part()
                sent += 1
        except DeliveryError as error:
            failure = error
            if error.retry_after is not None:
                self.pacer.hold(error.retry_after)
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

    async def run_forever(self) -> None:
        """Deliver until cancelled; a failed round is logged and retried, never fatal."""
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception:
                log.exception("outbox round failed")
            self.runtime.outbox_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.runtime.outbox_ready.wait(), self.idle_seconds)
