"""A fake Telegram Bot API that enforces Telegram's limits the way a bot meets them in the field.

Built on `FakeTelegramAPI` (which records every call and serves queued updates), with:

- a bot-wide limit: more than `per_second` messages accepted in any one-second window, and
  the next is refused with 429 and `parameters.retry_after`;
- a per-chat token bucket: a chat takes `chat_burst` messages at once, refilled at
  `chat_rate` a second (Telegram documents about one message a second per chat, short bursts
  tolerated); beyond it, 429;
- a flood wait: after a 429 the fake refuses again whatever comes before `retry_after` has
  passed, bot-wide after the bot-wide limit, in that chat after the chat's;
- optionally a share of calls failing (`faults`): half answer 502, a quarter are held
  unanswered until the client gives up, a quarter lose their connection.

A message is any call that posts or changes one (send*, copyMessage, edit*). Only accepted
messages count against the limits and as delivered: a refused or failed call costs time only.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from aiohttp import web

from tests.fake_telegram import FakeTelegramAPI, JSONDict, _ApiError, _error_response

# A message the bot posted, as the listener hears it: chat, the call's params, when accepted.
Listener = Callable[[int, JSONDict, float], None]

# A call held unanswered is let go once its client has given up, or after this long (the
# bot's longest read timeout is getUpdates' 15 s).
HOLD_LIMIT = 60.0


def posts_message(method: str) -> bool:
    """Whether a Bot API method posts or changes a message, and so counts against the limits."""
    return method == "copyMessage" or (
        method.startswith(("send", "edit")) and method != "sendChatAction"
    )


@dataclass(frozen=True)
class TelegramLimits:
    """What the fake enforces; the defaults are Telegram's documented broadcast limits."""

    per_second: int = 30
    chat_burst: int = 3
    chat_rate: float = 1.0
    retry_after: int = 1
    faults: float = 0.0
    seed: int = 14


class LimitedTelegramAPI(FakeTelegramAPI):
    """FakeTelegramAPI answering 429 beyond Telegram's limits, and failing calls if asked."""

    def __init__(
        self,
        limits: TelegramLimits | None = None,
        *,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        on_message: Listener | None = None,
    ) -> None:
        super().__init__(latency=latency)
        self.limits = limits or TelegramLimits()
        self.clock = clock
        self.on_message = on_message
        self.accepted: list[float] = []  # when each message was accepted, in order
        self.refused: Counter[str] = Counter()  # 429s by cause: "bot", "chat", "wait"
        self.failed: Counter[str] = Counter()  # injected faults: "502", "held", "dropped"
        self._window: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}  # chat: (tokens, when counted)
        self._bot_wait_until = float("-inf")
        self._chat_wait_until: dict[int, float] = {}
        self._random = random.Random(self.limits.seed)

    def busiest_second(self) -> int:
        """The most messages accepted in any one-second window."""
        most, first = 0, 0
        for last, at in enumerate(self.accepted):
            while self.accepted[first] <= at - 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def flood_wait(self, seconds: float) -> None:
        """Refuse every message bot-wide for that long, as Telegram does after abuse."""
        self._bot_wait_until = self.clock() + seconds

    # --- limits --------------------------------------------------------------------------------

    def _answer(self, method: str, params: JSONDict) -> Any:
        if not posts_message(method):
            return super()._answer(method, params)
        chat = self._chat_id(params) if params.get("chat_id") not in (None, "") else None
        now = self.clock()
        self._admit(chat, now)
        result = super()._answer(method, params)  # a 400 raised here counts for nothing
        self._window.append(now)
        if chat is not None:
            self._buckets[chat] = (self._tokens(chat, now) - 1, now)
        self.accepted.append(now)
        if self.on_message is not None and chat is not None:
            self.on_message(chat, params, now)
        return result

    def _admit(self, chat: int | None, now: float) -> None:
        """Refuse with 429 if this message would break a limit or comes inside a flood wait."""
        wait_until = self._bot_wait_until
        if chat is not None:
            wait_until = max(wait_until, self._chat_wait_until.get(chat, float("-inf")))
        if now < wait_until:
            self._refuse("wait", wait_until - now)
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        wait = self.limits.retry_after
        if len(self._window) >= self.limits.per_second:
            self._bot_wait_until = now + wait
            self._refuse("bot", wait)
        if chat is not None and self._tokens(chat, now) < 1:
            self._chat_wait_until[chat] = now + wait
            self._refuse("chat", wait)

    def _tokens(self, chat: int, now: float) -> float:
        tokens, counted = self._buckets.get(chat, (float(self.limits.chat_burst), now))
        return min(float(self.limits.chat_burst), tokens + (now - counted) * self.limits.chat_rate)

    def _refuse(self, cause: str, seconds: float) -> NoReturn:
        self.refused[cause] += 1
        wait = max(1, math.ceil(seconds))  # Telegram says whole seconds
        raise _ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    # --- faults --------------------------------------------------------------------------------

    async def _serve_api(self, request: web.Request) -> web.Response:
        method = self._canonical.get(request.match_info["method"].lower(), "")
        faulty = method == "getUpdates" or posts_message(method)
        if faulty and self.limits.faults and self._random.random() < self.limits.faults:
            return await self._fail(request)
        return await super()._serve_api(request)

    async def _fail(self, request: web.Request) -> web.Response:
        """A call Telegram never handled: 502, or no answer at all."""
        roll = self._random.random()
        if roll < 0.5:
            self.failed["502"] += 1
            return _error_response(_ApiError(502, "Bad Gateway"))
        if roll < 0.75:
            self.failed["held"] += 1
            loop = asyncio.get_running_loop()
            given_up = loop.time() + HOLD_LIMIT
            # aiohttp tells a handler nothing when its client goes: look now and then.
            while request.transport is not None and loop.time() < given_up:  # noqa: ASYNC110
                await asyncio.sleep(0.25)
        else:
            self.failed["dropped"] += 1
        if request.transport is not None:
            request.transport.close()
        # Never written: the connection is gone. aiohttp wants a response all the same.
        return web.Response(status=502)
