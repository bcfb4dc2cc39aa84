"""The outbox sender: delivers queued messages to other people after their transaction commits."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.channels.base import DeliveryError, Sender
from bot.runtime import Runtime
from handlers.notices import Delivery, settle_delivery, take_deliveries

log = logging.getLogger("tipline.outbox")


class OutboxSender:
    """Polls the outbox (and wakes at once when an update queued something) and delivers it."""

    def __init__(self, runtime: Runtime, senders: dict[str, Sender], *, idle_seconds: float = 5):
        self.runtime = runtime
        self.senders = senders
        self.idle_seconds = idle_seconds

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many deliveries were attempted."""
        async with self.runtime.db.transaction() as db:
            ctx = self.runtime.context()
            deliveries = await take_deliveries(db, ctx)
        for delivery in deliveries:
            await self._deliver(delivery)
        return len(deliveries)

    async def _deliver(self, delivery: Delivery) -> None:
        failure: DeliveryError | None = None
        sender = self.senders.get(delivery.channel)
        try:
            if sender is None:
                # e.g. an officer enrolled from the console while the bot runs on Telegram only.
                raise DeliveryError(f"channel {delivery.channel} is not served", permanent=True)
            await sender.deliver(delivery.chat, delivery.reply)
        except DeliveryError as error:
            failure = error
        async with self.runtime.db.transaction() as db:
            await settle_delivery(
                db,
                self.runtime.context(),
                delivery.outbox_id,
                error=str(failure) if failure else None,
                retry_after=failure.retry_after if failure else None,
                permanent=bool(failure and failure.permanent),
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
