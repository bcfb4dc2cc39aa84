"""Several `tipline webhook` processes on one PostgreSQL, as a province runs them behind a
load balancer: started together, sharing chats, jobs and the send budget, one of them killed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, reset_postgres
from tests.e2e.conftest import free_port
from tests.e2e.test_kill import Bot
from tests.fake_telegram import FakeTelegramAPI

JSONDict = dict[str, Any]

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
    secrets = {str(call.params["secret_token"]) for call in api.calls_to("setWebhook")}
    assert len(secrets) == 1, "processes of one deployment share the webhook secret"
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
