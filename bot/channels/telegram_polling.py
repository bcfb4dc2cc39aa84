"""Long polling on a thread of its own, so that a busy event loop never delays the next poll.

Telegram hands out at most 100 updates per getUpdates call, one call at a time. Polled from
the event loop, each next call waited until the loop had worked through everything the
previous batch set off: under a burst at 50 ms of latency the calls came 130 ms apart, and
that, not the bot's CPU, capped the rate. Here a thread with its own small event loop asks
again as soon as an answer arrives and passes the raw updates to the bot's loop, which turns
them into python-telegram-bot Updates and processes them as before. Updates are confirmed by
the next call's offset, as python-telegram-bot's Updater does, but only once the bot's loop
has stored the batch (bot/inbox.py): a process killed at any moment loses no update.
Redelivered ones are skipped by their update id.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.channels.aiohttp_request import AiohttpRequest, JsonFields

log = logging.getLogger("tipline.telegram")

JSONDict = dict[str, Any]
Deliver = Callable[[list[JSONDict]], Coroutine[Any, Any, None]]
HandOver = Callable[[list[JSONDict]], Future[None]]
Count = Callable[[], int]  # read from the poll thread: an int read is atomic

BATCH = 100  # Telegram's most per call
POLL_SECONDS = 10  # how long Telegram holds a call open when it has nothing
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
# Updates handed over but not yet handled before the next call waits: enough to keep every
# lane busy at 50 ms of latency (300 made the poll wait now and then), few enough that a
# backlog stays with Telegram, not in this process's memory (and is not lost, confirmed but
# unhandled, if the process dies).
MAX_AHEAD = 500
BACKLOG_CHECK_SECONDS = 0.005


class UpdatePoller:
    """Calls getUpdates back to back on a thread and hands each batch to the bot's loop."""

    def __init__(self, token: str, api_root: str, allowed_updates: list[str]) -> None:
        self._token = token
        self._api_root = api_root
        self._allowed = allowed_updates
        self.offset = 0
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._polling: asyncio.Task[None] | None = None
        self._started = threading.Event()

    def start(self, deliver: Deliver, handled: Count) -> None:
        """Start polling; `deliver` runs on the calling loop with each batch, in order, and
        the batch is confirmed to Telegram only once it returned; `handled` says how many of
        the updates handed over are done with.
        """
        target = asyncio.get_running_loop()

        async def store(updates: list[JSONDict]) -> None:
            await deliver(updates)
            # Advanced on the bot's loop the moment the batch is stored, so that stop()
            # confirms it even if the poll thread is stopped before it hears back.
            self.offset = _next_offset(updates, self.offset)

        def hand_over(updates: list[JSONDict]) -> Future[None]:
            return asyncio.run_coroutine_threadsafe(store(updates), target)

        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._run(hand_over, handled),),
            name="telegram-poll",
            daemon=True,
        )
        self._thread.start()
        self._started.wait()

    async def stop(self) -> None:
        """Stop asking; returns once the thread is gone (batches handed over stay handed over)."""
        if self._thread is None:
            return
        if self._thread_loop is not None and self._polling is not None:
            self._thread_loop.call_soon_threadsafe(self._polling.cancel)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    async def _run(self, hand_over: HandOver, handled: Count) -> None:
        self._thread_loop = asyncio.get_running_loop()
        self._polling = asyncio.current_task()
        request = AiohttpRequest(connections=1, read_timeout=POLL_SECONDS + 5)
        bot = Bot(self._token, base_url=f"{self._api_root}/bot", request=request)
        try:
            await request.initialize()
        finally:
            self._started.set()  # start() waits for this, even if the session failed to open
        try:
            await self._poll_forever(bot, hand_over, handled)
        except asyncio.CancelledError:
            pass
        finally:
            await request.shutdown()

    async def _poll_forever(self, bot: Bot, hand_over: HandOver, handled: Count) -> None:
        failures = 0
        handed_over = 0
        while True:
            # The count changes on the bot's loop, in another thread: looking every 5 ms while
            # backlogged costs less than a cross-thread wake-up for every update handled.
            while handed_over - handled() >= MAX_AHEAD:  # noqa: ASYNC110
                await asyncio.sleep(BACKLOG_CHECK_SECONDS)
            try:
                updates = await self._poll(bot)
            except InvalidToken:
                log.error("telegram refused the token: polling stopped")
                return
            except TelegramError as error:
                # The error's type only: its message may quote an update.
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                log.warning("getUpdates failed (%s); again in %.0f s", type(error).__name__, pause)
                failures += 1
                await asyncio.sleep(pause)
                continue
            failures = 0
            if not updates:
                continue
            try:
                await asyncio.wrap_future(hand_over(updates))
            except Exception as error:
                # Not stored, so not confirmed: the next call gets the same updates again.
                log.warning("updates not stored (%s); asking again", type(error).__name__)
                await asyncio.sleep(RETRY_SECONDS[0])
                continue
            handed_over += len(updates)

    async def _poll(self, bot: Bot) -> list[JSONDict]:
        fields = {
            "offset": self.offset,
            "limit": BATCH,
            "timeout": POLL_SECONDS,
            "allowed_updates": self._allowed,
        }
        # The raw answer, asked for with as little work as possible: this thread waits for the
        # interpreter's lock at every step, while the bot's loop runs. The bot's loop parses
        # the updates it processes.
        result = await bot.request.post(
            f"{bot.base_url}/getUpdates",
            request_data=JsonFields(fields),
            read_timeout=POLL_SECONDS + 5,
        )
        return list(result) if isinstance(result, list) else []


# Most JSON parsers read numbers as doubles, exact only up to 2**53, so Telegram keeps its
# (non-negative) update ids below that; a larger one is not Telegram's, and a huge one would
# overflow the dedupe key's column (processed_update.key, 80 characters) on PostgreSQL.
MAX_UPDATE_ID = 2**53


def update_number(update: JSONDict) -> int | None:
    """The update's id, if it is one Telegram could have sent; None otherwise."""
    number = update.get("update_id")
    # A bool is an int to Python, and int() would take 1.5 as 1: only a true integer counts.
    if type(number) is int and 0 <= number <= MAX_UPDATE_ID:
        return number
    return None


def _next_offset(updates: list[JSONDict], offset: int) -> int:
    """The offset that confirms a batch: one past its highest usable update_id."""
    numbers = [update_number(update) for update in updates]
    return max([offset, *(n + 1 for n in numbers if n is not None)])
