"""Telegram's side of a webhook, as the Bot API server (telegram-bot-api's WebhookActor) does it.

What the real server does, and so this fake: updates wait in queues, one per chat for
messages and their edits, one per user for button presses (a resident's message and button
press are in different queues); a queue's next update is sent only once the previous one was
answered 2xx, so a chat's messages are never in flight together; at most `max_connections`
calls are in flight, and at most twice that many updates are taken from the bot's backlog at a
time; a refused or failed call is sent again (at once the first time, then after 2, 4, ... s,
or after the answer's Retry-After), the queue waiting behind it. A load balancer in front of
several processes is `route`: which of the targets takes each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.fake_telegram import FakeTelegramAPI

JSONDict = dict[str, Any]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# (update, calls of it so far) -> index of the target that takes this call.
Route = Callable[[JSONDict, int], int]
MAX_RESEND_SECONDS = 60.0


def queue_of(update: JSONDict) -> Hashable:
    """The queue Telegram keeps an update in: its chat for messages, its user for buttons."""
    for kind in ("message", "edited_message"):
        if kind in update:
            return ("chat", update[kind]["chat"]["id"])
    if "callback_query" in update:
        return ("user", update["callback_query"]["from"]["id"])
    return ("alone", update["update_id"])


@dataclass
class _Queue:
    updates: deque[JSONDict] = field(default_factory=deque)
    calls: int = 0  # calls of the head update so far
    delay: float = 1.0  # doubled from the second failure on, as Telegram does


class WebhookDelivery:
    """Updates pushed here reach the targets' webhooks as Telegram would deliver them."""

    def __init__(
        self,
        targets: list[str],
        secret: str,
        *,
        max_connections: int = 40,
        route: Route | None = None,
    ) -> None:
        self.targets = targets
        self.secret = secret
        self.max_connections = max_connections
        turns = itertools.count()
        self.route: Route = route or (lambda _update, _calls: next(turns) % len(self.targets))
        self._backlog: deque[JSONDict] = deque()  # pushed, not yet taken into a queue
        self._queues: dict[Hashable, _Queue] = {}
        self._ready: asyncio.Queue[Hashable] = asyncio.Queue()
        self._loaded = 0
        self._delivered = 0
        self._pushed = 0
        self._changed = asyncio.Event()
        self.calls: list[tuple[int, int, int]] = []  # (update_id, target, HTTP status or 0)
        self._session: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> WebhookDelivery:
        self._session = aiohttp.ClientSession()
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.max_connections)]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def push(self, update: JSONDict) -> None:
        """A new update for the bot (it must carry its update_id), delivered in turn."""
        self._backlog.append(update)
        self._pushed += 1
        self._load()

    async def delivered(self) -> None:
        """Wait until every pushed update was answered 2xx."""
        while self._delivered < self._pushed:
            self._changed.clear()
            await self._changed.wait()

    def _load(self) -> None:
        """Take updates from the backlog into their queues, up to twice the connections."""
        while self._backlog and self._loaded < 2 * self.max_connections:
            update = self._backlog.popleft()
            self._loaded += 1
            key = queue_of(update)
            queue = self._queues.setdefault(key, _Queue())
            queue.updates.append(update)
            if len(queue.updates) == 1:
                self._ready.put_nowait(key)

    async def _work(self) -> None:
        """One connection: the head of the next ready queue, again until it is taken."""
        while True:
            key = await self._ready.get()
            queue = self._queues[key]
            update = queue.updates[0]
            status, retry_after = await self._call(update, queue.calls)
            queue.calls += 1
            if 200 <= status <= 299:
                self._taken(key, queue)
            else:
                asyncio.get_running_loop().call_later(
                    self._resend_delay(queue, retry_after), self._ready.put_nowait, key
                )

    def _taken(self, key: Hashable, queue: _Queue) -> None:
        queue.updates.popleft()
        queue.calls, queue.delay = 0, 1.0
        self._loaded -= 1
        self._delivered += 1
        self._changed.set()
        if queue.updates:
            self._ready.put_nowait(key)
        else:
            del self._queues[key]
        self._load()

    @staticmethod
    def _resend_delay(queue: _Queue, retry_after: float) -> float:
        if retry_after > 0 or queue.calls <= 1:
            return retry_after
        queue.delay = min(MAX_RESEND_SECONDS, queue.delay * 2)
        return queue.delay

    async def _call(self, update: JSONDict, calls: int) -> tuple[int, float]:
        """POST one update; (HTTP status, or 0 when the connection failed; Retry-After)."""
        assert self._session is not None
        target = self.route(update, calls) % len(self.targets)
        status, retry_after = 0, 0.0
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with self._session.post(
                self.targets[target], json=update, headers={SECRET_HEADER: self.secret}
            ) as answer:
                status = answer.status
                with contextlib.suppress(ValueError):
                    retry_after = float(answer.headers.get("Retry-After", 0))
        self.calls.append((int(update["update_id"]), target, status))
        return status, retry_after


async def to_webhooks(api: FakeTelegramAPI, processes: int) -> WebhookDelivery:
    """Once that many processes set their webhook on `api`, a delivery to them all (not yet
    entered), with the secret and the calls in flight they asked for."""
    await api.wait_calls("setWebhook", count=processes, timeout=300)
    calls = api.calls_to("setWebhook")
    return WebhookDelivery(
        [str(call.params["url"]) for call in calls],
        str(calls[0].params["secret_token"]),
        max_connections=int(calls[0].params.get("max_connections", 40)),
    )
