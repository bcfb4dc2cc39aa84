"""Polling on its own thread: prompt while the bot is busy, bounded ahead, confirmed at stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels import telegram_polling
from bot.runtime import Handled, Runtime
from handlers.common.types import Incoming
from tests.e2e.conftest import telegram_channel
from tests.fake_telegram import FakeTelegramAPI


class FakeOnItsOwnThread:
    """The fake Bot API served by another thread: it answers while the bot's loop is blocked."""

    def __init__(self) -> None:
        self.api = FakeTelegramAPI()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),))

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.api:
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeTelegramAPI:
        self._thread.start()
        self._ready.wait(10)
        return self.api

    def __exit__(self, *_exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self.loop.close()

    def push_texts(self, count: int) -> None:
        """Queue `count` texts from as many residents, on the fake's own thread."""

        def push() -> None:
            for n in range(count):
                user = self.api.user(70_000 + n, f"Resident {n}")
                self.api.push(self.api.text_update(user, "/help"))

        self.loop.call_soon_threadsafe(push)


@pytest.fixture
def threaded_fake() -> Iterator[FakeOnItsOwnThread]:
    """A fake Bot API on a thread of its own."""
    fake = FakeOnItsOwnThread()
    with fake:
        yield fake


def polls(api: FakeTelegramAPI) -> int:
    """How many getUpdates calls the fake has seen."""
    return sum(1 for call in list(api.calls) if call.method == "getUpdates")


async def wait_for(condition: Any, seconds: float = 10.0) -> None:
    """Let the loop run until `condition()` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_batch_is_confirmed_only_once_the_bot_stored_it(
    runtime: Runtime, threaded_fake: FakeOnItsOwnThread
) -> None:
    api = threaded_fake.api
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    try:
        await wait_for(lambda: polls(api) >= 1)
        threaded_fake.push_texts(250)
        # The bot's event loop is stuck on purpose: nothing polled can be stored meanwhile.
        time.sleep(1.0)  # noqa: ASYNC251
        assert len(api.pending_updates) == 250  # fetched perhaps, but none confirmed
        await wait_for(lambda: len(api.calls_to("sendMessage")) == 250, seconds=30)
    finally:
        await channel.stop()
    assert api.pending_updates == []


class HeldUp:
    """Holds every update at the start of its handling until released."""

    def __init__(self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self._answer = runtime.handle_durably
        monkeypatch.setattr(runtime, "handle_durably", self.handle)

    async def handle(self, msg: Incoming, **keep: Any) -> Handled:
        """Wait for release, then answer as usual."""
        self.entered.set()
        await self.release.wait()
        return await self._answer(msg, **keep)


async def test_a_backlog_stays_with_telegram_until_the_bot_has_room(
    runtime: Runtime,
    threaded_fake: FakeOnItsOwnThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = threaded_fake.api
    monkeypatch.setattr(telegram_polling, "MAX_AHEAD", 3)
    held = HeldUp(runtime, monkeypatch)
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    try:
        threaded_fake.push_texts(250)
        await asyncio.wait_for(held.entered.wait(), 10)  # the first 100 were handed over
        fetched = polls(api)
        await asyncio.sleep(0.5)
        assert polls(api) == fetched  # no more asked for while 100 wait
        assert len(api.pending_updates) == 250  # the backlog stays with Telegram
        held.release.set()
        await wait_for(lambda: len(api.calls_to("sendMessage")) == 250, seconds=30)
    finally:
        held.release.set()  # a failed check must not leave stop() waiting for held updates
        await channel.stop()


async def test_stopping_confirms_what_was_handled(
    runtime: Runtime,
    threaded_fake: FakeOnItsOwnThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = threaded_fake.api
    monkeypatch.setattr(telegram_polling, "MAX_AHEAD", 1)  # no poll after the one update
    held = HeldUp(runtime, monkeypatch)
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    threaded_fake.push_texts(1)
    await asyncio.wait_for(held.entered.wait(), 10)
    stopping = asyncio.create_task(channel.stop())
    await asyncio.sleep(0.2)
    assert len(api.pending_updates) == 1  # fetched, but not yet confirmed
    held.release.set()
    await stopping
    assert len(api.calls_to("sendMessage")) == 1  # stopping finished what it had
    assert api.pending_updates == []  # and confirmed it: a restart will not fetch it again


async def test_polling_outlasts_a_failing_get_updates(
    runtime: Runtime, api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    channel = telegram_channel(runtime, api, polling=True)
    api.fail_next("getUpdates", status=502, description="Bad Gateway")
    await channel.start()
    try:
        user = api.user(71_000, "Patient Resident")
        api.push(api.text_update(user, "/help"))
        await api.wait_calls("sendMessage", chat_id=71_000, timeout=10)
    finally:
        await channel.stop()
    assert "getUpdates failed (NetworkError); again in 1 s" in caplog.text
