"""Spacing of outgoing messages, so the platform never has to say "too many", urgent ones first."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from handlers.common.types import Priority

__all__ = ["CHAT_BURST", "CHAT_GAP", "PER_SECOND", "Pacer", "Priority"]

# Telegram allows 30 messages a second in all and about one a second to the same chat, short
# bursts tolerated. No margin is needed on the 30: the rule below bounds what the platform can
# count, not what we send.
PER_SECOND = 30
CHAT_BURST = 3
CHAT_GAP = 1.02
# Chats remembered before the quiet ones (nothing in flight, nothing owed) are forgotten.
REMEMBERED_CHATS = 10_000

Key = tuple[int, int]  # (priority, order of asking): the smaller goes first


class _Waiter:
    """A send waiting for its turn."""

    __slots__ = ("granted", "key")

    def __init__(self, key: Key, granted: asyncio.Future[None]) -> None:
        self.key = key
        self.granted = granted

    def __lt__(self, other: _Waiter) -> bool:
        return self.key < other.key


# Of every five sends while both wait, four go to residents' answers and one to the most
# urgent alert or notice; digests wait until no answer does.
ANSWERS_IN_A_ROW = 4
ANSWER = Priority.ANSWER


class _Chat:
    """One chat's sends: in flight, owed to its bucket, waiting."""

    __slots__ = ("full_at", "in_flight", "listed", "waiting", "wakes_at")

    def __init__(self) -> None:
        self.full_at = -math.inf  # when the chat's bucket of sends is full again
        self.in_flight = 0
        self.waiting: list[_Waiter] = []  # a heap: the chat's most urgent waiter first
        self.listed: Key | None = None  # that waiter's key, while it is offered to go
        self.wakes_at: float | None = None  # when that waiter may go, if its chat holds it


class Pacer:
    """Lets a send go only when the platform cannot count too many; the most urgent first.

    The platform counts a message when it arrives, which is somewhere between our start and
    its answer. So a send counts against `per_second` from its start until one second after
    its answer: then no one-second window at the platform can hold more than `per_second`,
    however late a slow upload or a busy event loop makes a request arrive. Sends are also
    spread evenly, one every 1/per_second on a steady beat: a send the event loop let go a
    little late does not push the beat back, as spacing from each actual start did (4 ms of
    lateness a send cost a tenth of the budget), so two may go close together, never more.

    Each chat has a bucket of `chat_burst` sends: a send takes one at its start, and they come
    back one every `chat_gap` seconds, counted from the answers. So however the platform sees
    them arrive, a chat gets at most a burst and then one every `chat_gap`. After a 429
    everything waits as told.

    When sends wait, the budget goes to the most urgent one whose chat may take it (among
    equals, the first to ask). A send held back only by its own chat's pace stands aside:
    it holds up nobody else. Nothing waits on a timer per send: one timer serves the queue.
    """

    def __init__(
        self,
        per_second: float = PER_SECOND,
        chat_gap: float = CHAT_GAP,
        *,
        chat_burst: int = CHAT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.budget = per_second  # the platform's whole budget, shared among processes
        self.chat_gap = chat_gap
        self.chat_burst = chat_burst
        self.clock = clock
        self.sleep = sleep
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._beat = -math.inf  # when the next send is due on the even spacing
        self._held_until = -math.inf
        self._chats: dict[str, _Chat] = {}
        self._forget_above = REMEMBERED_CHATS
        # Chats whose first waiter may go next: residents' answers, and everything else.
        self._ready_answers: list[tuple[int, int, str]] = []
        self._ready_others: list[tuple[int, int, str]] = []
        self._answers_in_a_row = 0
        self._later: list[tuple[float, str]] = []  # chats whose first waiter awaits their pace
        self._order = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = math.inf

    def share(self, processes: int) -> None:
        """Send at this process's share of the platform's budget, `processes` sharing it."""
        self.per_second = self.budget / max(1, processes)

    @asynccontextmanager
    async def slot(self, chat: str, priority: Priority = Priority.NOTICE) -> AsyncIterator[None]:
        """Wait for a moment when a message to `chat` may go, the most urgent first, and hold
        it while it is sent."""
        state = self._chats.get(chat)
        if state is None:
            state = self._chats[chat] = _Chat()
        now = self.clock()
        if (
            self._ready_answers
            or self._ready_others
            or state.waiting
            or (self._later and self._later[0][0] <= now)
            or self._chat_free_at(state) > now
            or self._free_at(now) > now
        ):
            await self._wait(chat, state, priority)
        else:
            self._start(state, now)  # nobody waits: no queue, no timer
        try:
            yield
        finally:
            self._end(chat, state)

    def hold(self, seconds: float) -> None:
        """The platform said to wait: no message goes before then."""
        self._held_until = max(self._held_until, self.clock() + seconds)

    async def _wait(self, chat: str, state: _Chat, priority: Priority) -> None:
        waiter = _Waiter((priority, next(self._order)), asyncio.get_running_loop().create_future())
        heapq.heappush(state.waiting, waiter)
        self._consider(chat, state, self.clock())
        self._dispatch()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.cancelled():
                state.waiting.remove(waiter)
                heapq.heapify(state.waiting)
                if state.listed == waiter.key:
                    state.listed = None
                    self._consider(chat, state, self.clock())
                self._dispatch()
            else:  # its turn came just as it was cancelled: count it as sent
                self._end(chat, state)
            raise

    def _free_at(self, now: float) -> float:
        """When the budget lets the next send start (infinity: when one in flight answers)."""
        answered = self._answered
        # Compared as `answered + 1.0 <= now` here and below: `answered <= now - 1.0` rounds
        # differently, and kept a send counted whose second the wait below had let pass.
        while answered and answered[0] + 1.0 <= now:
            answered.popleft()
        at = max(self._beat - 1 / self.per_second, self._held_until)
        # No second may hold more than `per_second` whole sends (and one, at the least).
        over = self._in_flight + len(answered) - max(1, math.floor(self.per_second)) + 1
        if over > 0:  # that many answered sends must be a second old first
            at = max(at, answered[over - 1] + 1.0 if over <= len(answered) else math.inf)
        return at

    def _chat_free_at(self, state: _Chat) -> float:
        """When the chat's bucket has a send for one more (infinity: when one answers)."""
        if state.in_flight >= self.chat_burst:
            return math.inf
        return state.full_at - (self.chat_burst - 1 - state.in_flight) * self.chat_gap

    def _consider(self, chat: str, state: _Chat, now: float) -> None:
        """Offer the chat's most urgent waiter the budget, or set when its chat lets it go."""
        if not state.waiting or state.wakes_at is not None:
            return
        head = state.waiting[0]
        at = self._chat_free_at(state)
        if at <= now:
            if state.listed != head.key:  # a more urgent one came: the older offer is void
                state.listed = head.key
                heapq.heappush(self._queue_for(head.key[0]), (*head.key, chat))
        elif at < math.inf:
            state.wakes_at = at
            heapq.heappush(self._later, (at, chat))
        # else an answer to this chat frees its bucket, and `_end` considers it again

    def _dispatch(self) -> None:
        """Let go every send whose turn it is, and set the timer for the next one."""
        now = self.clock()
        while self._later and self._later[0][0] <= now:
            _, chat = heapq.heappop(self._later)
            state = self._chats[chat]
            state.wakes_at = None
            self._consider(chat, state, now)
        while (self._ready_answers or self._ready_others) and self._free_at(now) <= now:
            priority, order, chat = heapq.heappop(self._next_queue())
            offered = self._chats.get(chat)
            if offered is None or offered.listed != (priority, order):
                continue  # a void offer
            self._answers_in_a_row = self._answers_in_a_row + 1 if priority == ANSWER else 0
            offered.listed = None
            heapq.heappop(offered.waiting).granted.set_result(None)
            self._start(offered, now)
            self._consider(chat, offered, now)
        self._arm(now)

    def _queue_for(self, priority: int) -> list[tuple[int, int, str]]:
        return self._ready_answers if priority == ANSWER else self._ready_others

    def _next_queue(self) -> list[tuple[int, int, str]]:
        """Answers first, but never more than ANSWERS_IN_A_ROW while an alert or a notice
        waits: when hundreds of residents are answered at the platform's limit, an urgent
        alert would otherwise wait for all of them. Digests only take what answers leave."""
        if not self._ready_answers:
            return self._ready_others
        if not self._ready_others or self._ready_others[0][0] >= Priority.DIGEST:
            return self._ready_answers
        if self._answers_in_a_row >= ANSWERS_IN_A_ROW:
            return self._ready_others
        return self._ready_answers

    def _arm(self, now: float) -> None:
        at = min(
            self._free_at(now) if self._ready_answers or self._ready_others else math.inf,
            self._later[0][0] if self._later else math.inf,
        )
        if self._timer_at <= at < math.inf:
            return  # the timer set goes off first, and sets the next
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, math.inf
        if at < math.inf:  # else nothing waits, or only for an answer (`_end` dispatches)
            self._timer_at = at
            self._timer = asyncio.ensure_future(self._wake(at - now))

    async def _wake(self, delay: float) -> None:
        await self.sleep(delay)
        self._timer, self._timer_at = None, math.inf
        self._dispatch()

    def _start(self, state: _Chat, now: float) -> None:
        self._beat = max(self._beat, now) + 1 / self.per_second
        self._in_flight += 1
        state.in_flight += 1

    def _end(self, chat: str, state: _Chat) -> None:
        now = self.clock()
        self._in_flight -= 1
        self._answered.append(now)
        state.in_flight -= 1
        state.full_at = max(state.full_at, now) + self.chat_gap
        if state.waiting:
            self._consider(chat, state, now)
        if self._ready_answers or self._ready_others or self._later:
            self._dispatch()
        elif len(self._chats) > self._forget_above:
            self._forget_quiet_chats(now)

    def _forget_quiet_chats(self, now: float) -> None:
        self._chats = {
            chat: state
            for chat, state in self._chats.items()
            if state.in_flight or state.waiting or state.wakes_at is not None or state.full_at > now
        }
        # Forgetting again only once as many more chats came keeps this O(1) per send.
        self._forget_above = max(REMEMBERED_CHATS, 2 * len(self._chats))
