"""Spacing of outgoing broadcast messages, so the platform never has to say "too many"."""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

# Telegram allows 30 messages a second in all and one a second to the same chat. No margin
# is needed on the 30: the rule below bounds what the platform can count, not what we send.
PER_SECOND = 30
CHAT_GAP = 1.02


class Priority(enum.IntEnum):
    """Who goes first when sends wait: a resident waiting for an answer, then urgent alerts."""

    ANSWER = 0
    URGENT = 1
    NOTICE = 2
    DIGEST = 3


class Pacer:
    """Lets a send go only when the platform cannot count too many.

    The platform counts a message when it arrives, which is somewhere between our start and
    its answer. So a send counts against the limit from its start until one second after its
    answer: then no one-second window at the platform can hold more than `per_second`, however
    late a slow upload or a busy event loop makes a request arrive. Sends are also spread
    evenly (never closer than 1/per_second), and a chat's next message starts no sooner than
    `chat_gap` after the answer to its last one. After a 429 everything waits as told.
    """

    def __init__(
        self,
        per_second: float = PER_SECOND,
        chat_gap: float = CHAT_GAP,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.chat_gap = chat_gap
        self.clock = clock
        self.sleep = sleep
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._last_start = float("-inf")
        self._last_to: dict[str, float] = {}
        self._held_until = float("-inf")

    @asynccontextmanager
    async def slot(self, chat: str, priority: Priority = Priority.NOTICE) -> AsyncIterator[None]:
        """Wait for a moment when a message to `chat` may go, and hold it while it is sent."""
        await self._wait(chat)
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            now = self.clock()
            self._answered.append(now)
            self._last_to[chat] = now

    async def _wait(self, chat: str) -> None:
        while True:
            now = self.clock()
            while self._answered and self._answered[0] <= now - 1.0:
                self._answered.popleft()
            ready = max(
                self._last_start + 1 / self.per_second,
                self._last_to.get(chat, float("-inf")) + self.chat_gap,
                self._held_until,
            )
            if self._in_flight + len(self._answered) >= self.per_second:
                ready = max(ready, self._answered[0] + 1.0 if self._answered else now + 0.01)
            if ready <= now:
                # No await between this check and the booking: no other send slips in between.
                self._last_start = now
                self._forget_quiet_chats(now)
                return
            await self.sleep(ready - now)

    def hold(self, seconds: float) -> None:
        """The platform said to wait: no message goes before then."""
        self._held_until = max(self._held_until, self.clock() + seconds)

    def _forget_quiet_chats(self, now: float) -> None:
        if len(self._last_to) > 10_000:
            self._last_to = {
                chat: at for chat, at in self._last_to.items() if at > now - self.chat_gap
            }
