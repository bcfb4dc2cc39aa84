"""Several `tipline webhook` processes on one PostgreSQL, as a province runs them behind a
load balancer: started together, sharing chats, jobs and the send budget, one of them killed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.throughput import FLOW, MARKERS
from bot.pacing import Priority
from bot.runtime import Runtime, utc_now
from bot.settings import load_settings
from handlers.common.sealing import Sealer
from handlers.common.types import Reply
from storage.db import Database
from tests.conftest import PG_URL, reset_postgres
from tests.e2e.conftest import free_port
from tests.e2e.test_cli import SECRET
from tests.e2e.test_kill import Bot
from tests.fake_flood import LimitedTelegramAPI
from tests.fake_telegram import FakeTelegramAPI
from tests.fake_webhook import WebhookDelivery
from tests.test_outbox_once import FIRST_CHAT, officers_on_telegram, queue

JSONDict = dict[str, Any]
NUMBERS = itertools.count(50_000)  # update ids, in the order Telegram would give them

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="TIPLINE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped"
)


class Webhook(Bot):
    """One `tipline webhook` process, listening on a port of its own."""

    def __init__(self, tmp_path: Path, api: FakeTelegramAPI) -> None:
        super().__init__(tmp_path, api, PG_URL)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"

    def arguments(self) -> tuple[str, ...]:
        """The command line a service manager would give it."""
        return ("webhook", "--listen", f"127.0.0.1:{self.port}", "--url", self.url)


async def start_together(processes: list[Webhook], api: FakeTelegramAPI) -> None:
    """Start every process at the same instant; wait until each told Telegram its webhook."""
    before = len(api.calls_to("setWebhook"))
    await asyncio.gather(*(process._spawn(*process.arguments()) for process in processes))
    await api.wait_calls("setWebhook", count=before + len(processes), timeout=60)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API every process talks to."""
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def fresh(tmp_path: Path, api: FakeTelegramAPI) -> AsyncIterator[list[Webhook]]:
    """Two webhook processes (not started) on an empty PostgreSQL database."""
    await reset_postgres(PG_URL)
    processes = [Webhook(tmp_path, api) for _ in range(2)]
    yield processes
    for process in processes:
        if process.process is not None and process.process.returncode is None:
            process.process.kill()


def secret_of(api: FakeTelegramAPI) -> str:
    """The secret the processes asked Telegram to send with each update (the same for all)."""
    calls = api.calls_to("setWebhook")
    secrets = {str(call.params["secret_token"]) for call in calls}
    assert len(secrets) == 1, "processes of one deployment share the webhook secret"
    assert {int(call.params["max_connections"]) for call in calls} == {40}
    return secrets.pop()


def has_answer(api: FakeTelegramAPI, chat: int) -> bool:
    """Whether the bot got anything through to the chat."""
    return bool(api.sent_texts(chat))


async def test_processes_started_together_on_a_fresh_database_all_come_up(
    fresh: list[Webhook], api: FakeTelegramAPI
) -> None:
    for round_ in range(3):  # the race was lost 2 of 2 times before migrations took a lock
        await reset_postgres(PG_URL)
        await start_together(fresh, api)
        secret = secret_of(api)
        for n, process in enumerate(fresh):
            chat = 700_000 + 10 * round_ + n
            update = api.text_update(api.user(chat, f"Resident {chat}"), "/start")
            assert await api.post_webhook(process.url, update, secret) == 200
            await api.wait_for(functools.partial(has_answer, api, chat), 30, "an answer")
        logs = [await process.stop() for process in fresh]
        assert [process.process.returncode for process in fresh if process.process] == [0, 0]
        assert "Error" not in "".join(logs), logs


async def steps_through_telegram(
    delivery: WebhookDelivery, api: FakeTelegramAPI, chat: int, steps: dict[int, int]
) -> None:
    """A resident typing the whole tip flow fast, 20 ms a message, none waiting for an answer:
    Telegram queues them and sends each once the previous one was answered. `steps` learns
    which step each update is."""
    for step, words in enumerate(FLOW):
        update = typed(api, chat, words.format(chat=chat))
        steps[update["update_id"]] = step
        delivery.push(update)
        await asyncio.sleep(0.02)


def flow_answers(api: FakeTelegramAPI, chat: int) -> list[str]:
    """Which step each answer the chat got belongs to, in the order they arrived."""
    return [next((m for m in MARKERS if m in text), text) for text in api.sent_texts(chat)]


async def test_one_chats_steps_spread_over_two_processes_get_the_right_answers_in_order(
    fresh: list[Webhook], api: FakeTelegramAPI
) -> None:
    await start_together(fresh, api)
    secret = secret_of(api)
    chats = [720_000 + n for n in range(30)]
    steps: dict[int, int] = {}  # update_id -> its step in its chat's flow

    def alternate(update: JSONDict, calls: int) -> int:
        """The load balancer sends each step of a chat to the other process than the last."""
        return steps[update["update_id"]] + calls

    targets = [process.url for process in fresh]
    async with WebhookDelivery(targets, secret, route=alternate) as delivery:
        await asyncio.gather(
            *(steps_through_telegram(delivery, api, chat, steps) for chat in chats)
        )
        await asyncio.wait_for(delivery.delivered(), 120)
    done = functools.partial(all_answered, api, chats)
    await api.wait_for(done, 60, "every chat's eight answers")
    await asyncio.sleep(0.5)  # room for a second copy, were one owed
    logs = [await process.stop() for process in fresh]
    wrong = {chat: flow_answers(api, chat) for chat in chats if flow_answers(api, chat) != MARKERS}
    assert not wrong, wrong
    switched = {target for _, target, _ in delivery.calls}
    assert switched == {0, 1}
    assert "Error" not in "".join(logs), logs


def all_answered(api: FakeTelegramAPI, chats: list[int]) -> bool:
    """Whether every chat got as many answers as the flow has steps."""
    return all(len(api.sent_texts(chat)) >= len(MARKERS) for chat in chats)


async def post_balanced(
    api: FakeTelegramAPI, processes: list[Webhook], secret: str, update: JSONDict, turn: int
) -> None:
    """A load balancer's part: the update to the process whose turn it is, and to the next one
    when that one does not answer 200 (it died); Telegram's part: again until one takes it."""
    while True:
        for offset in range(len(processes)):
            target = processes[(turn + offset) % len(processes)]
            with contextlib.suppress(aiohttp.ClientError):
                if await api.post_webhook(target.url, update, secret) == 200:
                    return
        await asyncio.sleep(0.2)


async def walk_balanced(
    api: FakeTelegramAPI, processes: list[Webhook], secret: str, chat: int
) -> None:
    """A resident walking the tip flow, each step once the last one's answer arrived, the
    steps spread over the processes in turn."""
    for step, (words, marker) in enumerate(zip(FLOW, MARKERS, strict=True)):
        update = typed(api, chat, words.format(chat=chat))
        await post_balanced(api, processes, secret, update, chat + step)
        got_it = functools.partial(has_marker, api, chat, marker)
        await api.wait_for(got_it, 120, f"chat {chat} step {step}")


def has_marker(api: FakeTelegramAPI, chat: int, marker: str) -> bool:
    """Whether the answer that starts with `marker` got through to the chat."""
    return any(marker in text for text in api.sent_texts(chat))


async def test_a_process_killed_mid_burst_while_the_other_goes_on_loses_nothing(
    fresh: list[Webhook], api: FakeTelegramAPI
) -> None:
    await start_together(fresh, api)
    secret = secret_of(api)
    dying, surviving = fresh
    chats = [740_000 + n for n in range(24)]
    residents = asyncio.gather(*(walk_balanced(api, fresh, secret, chat) for chat in chats))
    await asyncio.sleep(1.0)  # the flow goes on ...
    # ... then Telegram refuses every send for a moment: both processes commit answers they
    # cannot deliver yet, and one of them is killed with its answers still owed.
    api.fail_next("sendMessage", retry_after=3, times=1_000_000)
    await asyncio.sleep(0.6)
    await dying.kill()
    api.clear_faults()
    await asyncio.wait_for(residents, 180)
    await asyncio.sleep(0.5)  # room for a second copy, were one owed
    log = await surviving.stop()
    for chat in chats:
        assert flow_answers(api, chat) == MARKERS, (chat, api.sent_texts(chat))
    assert "Error" not in log, log


async def test_a_half_minute_flood_wait_is_kept_by_both_processes_and_loses_nothing(
    tmp_path: Path,
) -> None:
    async with LimitedTelegramAPI() as api:
        processes = [Webhook(tmp_path, api) for _ in range(2)]
        await reset_postgres(PG_URL)
        await start_together(processes, api)
        secret = secret_of(api)
        chats = [760_000 + n for n in range(12)]
        try:
            residents = asyncio.gather(
                *(walk_balanced(api, processes, secret, chat) for chat in chats)
            )
            await asyncio.sleep(1.0)  # the flow goes on ...
            api.flood_wait(FLOOD_SECONDS)  # ... then Telegram refuses everything for a while
            waited = time.monotonic()
            await asyncio.wait_for(residents, 180)
            await asyncio.sleep(0.5)  # room for a second copy, were one owed
        finally:
            logs = [await process.stop() for process in processes]
        assert time.monotonic() - waited > FLOOD_SECONDS  # the residents did wait it out
        for chat in chats:
            assert flow_answers(api, chat) == MARKERS, (chat, api.sent_texts(chat))
        # Each process learns of the wait from its own refused call, then holds every send.
        assert 1 <= api.refused["wait"] <= 6, api.refused
        assert "Error" not in "".join(logs), logs


FLOOD_SECONDS = 30


async def test_two_processes_together_keep_to_one_send_budget(tmp_path: Path) -> None:
    async with LimitedTelegramAPI() as api:
        processes = [Webhook(tmp_path, api) for _ in range(2)]
        await reset_postgres(PG_URL)
        await start_together(processes, api)
        secret = secret_of(api)
        settings = load_settings(_env_file=None)
        runtime = Runtime(
            db=Database(PG_URL),
            sealer=Sealer(SECRET),
            catalog=settings.catalog(),
            timezone=settings.zone,
            clock=utc_now,
        )
        try:
            # A morning's digests queued from outside, alerts to one officer trickling in, and
            # residents writing to both processes meanwhile.
            officers = await officers_on_telegram(runtime, 101)
            digests = [(o, Reply(f"Bản tin {n}"), Priority.DIGEST) for n, o in enumerate(officers)]
            await queue(runtime, digests[1:])
            residents = [790_000 + n for n in range(60)]
            await asyncio.gather(
                trickle(runtime, officers[0], ALERTS),
                *(
                    post_balanced(api, processes, secret, typed(api, chat, "/start"), turn=n)
                    for n, chat in enumerate(residents)
                ),
            )
            expected = {FIRST_CHAT + n: 1 for n in range(1, 101)} | {FIRST_CHAT: ALERTS}
            expected |= dict.fromkeys(residents, 1)
            await api.wait_for(lambda: delivered(api, expected) == expected, 90, "every message")
            await asyncio.sleep(1.0)  # room for a second copy, were one owed
        finally:
            await runtime.db.dispose()
            for process in processes:
                await process.stop()
    assert delivered(api, expected) == expected
    assert sum(api.refused.values()) == 0, api.refused  # no 429, bot-wide or for one chat
    assert api.busiest_second() <= 30


ALERTS = 8


async def trickle(runtime: Runtime, officer: int, count: int) -> None:
    """Urgent alerts for one officer, one every 0.3 s, as tips come in."""
    for n in range(count):
        await queue(runtime, [(officer, Reply(f"Cảnh báo {n}"), Priority.URGENT)])
        await asyncio.sleep(0.3)


def typed(api: FakeTelegramAPI, chat: int, words: str) -> JSONDict:
    """A resident's message, numbered as Telegram numbers updates."""
    update = api.text_update(api.user(chat, f"Resident {chat}"), words)
    return {**update, "update_id": next(NUMBERS)}


def delivered(api: FakeTelegramAPI, chats: dict[int, int]) -> dict[int, int]:
    """How many messages got through to each of those chats."""
    return {chat: len(api.sent_texts(chat)) for chat in chats}
