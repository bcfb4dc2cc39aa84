"""A kill -9 at the worst moments loses nothing: every update handled, every answer delivered.

The real `tipline run` against the fake Bot API, killed with SIGKILL while Telegram refuses
its sends (so its answers are committed but not delivered) at several points of a burst, then
started again. Kills land while no send is in flight: a send Telegram took whose answer the
bot never heard is the one case a restart repeats (README, "Delivered").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.throughput import FLOW, MARKERS
from tests.conftest import PG_URL, reset_postgres
from tests.e2e.conftest import free_port
from tests.e2e.test_cli import SECRET, clean_env
from tests.fake_telegram import FakeTelegramAPI
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZaloBotAPI

JSONDict = dict[str, Any]
FIRST_CHAT = 610_000
REFUSED = 30  # seconds Telegram tells the bot to wait: longer than any kill below takes


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The bot's database: a SQLite file, and PostgreSQL when the tests have one."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'tipline.db'}"
    if not PG_URL:
        pytest.skip("TIPLINE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    await reset_postgres(PG_URL)
    return PG_URL


class Bot:
    """`tipline run` as a service manager runs it, and kills it."""

    def __init__(self, tmp_path: Path, api: FakeTelegramAPI, database_url: str) -> None:
        self.tmp_path = tmp_path
        self.env = clean_env(
            tmp_path,
            TIPLINE_TELEGRAM_TOKEN=api.token,
            TIPLINE_TELEGRAM_API_URL=api.root,
            TIPLINE_SECRET_KEY=SECRET,
            TIPLINE_DATABASE_URL=database_url,
            TIPLINE_LOG_LEVEL="WARNING",
        )
        self.process: asyncio.subprocess.Process | None = None
        self.api = api

    async def start(self, *webhook: str) -> None:
        """Start it polling (or behind a webhook) and wait until it listens."""
        method = "setWebhook" if webhook else "getUpdates"
        before = len(self.api.calls_to(method))
        await self._spawn(*(webhook or ("run",)))
        await self.api.wait_calls(method, count=before + 1, timeout=60)

    async def _spawn(self, *args: str) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=self.tmp_path, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no last confirmation, nothing flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> str:
        """SIGTERM; returns what it logged."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.process.communicate(), 60)
        return err.decode()


class ZaloBot(Bot):
    """`tipline run` polling the Zalo Bot Platform alone."""

    def __init__(self, tmp_path: Path, zalo: FakeZaloBotAPI, database_url: str) -> None:
        self.tmp_path = tmp_path
        self.env = clean_env(
            tmp_path,
            TIPLINE_ZALO_TOKEN=ZALO_TOKEN,
            TIPLINE_ZALO_API_URL=zalo.root,
            TIPLINE_SECRET_KEY=SECRET,
            TIPLINE_DATABASE_URL=database_url,
            TIPLINE_LOG_LEVEL="WARNING",
        )
        self.process = None
        self.zalo = zalo

    async def start(self, *webhook: str) -> None:
        """Start it polling and wait until it asks for updates."""
        before = self.zalo.polls
        await self._spawn("run")
        await self.zalo.wait_for(lambda: self.zalo.polls > before, 60)


Launch = Callable[[FakeTelegramAPI | FakeZaloBotAPI], Bot]


@pytest.fixture
def launch(tmp_path: Path, database_url: str) -> Iterator[Launch]:
    """Makes bots for the test; any still running at its end (a failed check) is killed."""
    made: list[Bot] = []

    def bot(api: FakeTelegramAPI | FakeZaloBotAPI) -> Bot:
        if isinstance(api, FakeZaloBotAPI):
            made.append(ZaloBot(tmp_path, api, database_url))
        else:
            made.append(Bot(tmp_path, api, database_url))
        return made[-1]

    yield bot
    for each in made:
        if each.process is not None and each.process.returncode is None:
            each.process.kill()


def accepted(api: FakeTelegramAPI, chat: int) -> list[str]:
    """What the bot got through to a chat, in order."""
    return api.sent_texts(chat)


async def kill_while_refused(bot: Bot, api: FakeTelegramAPI, after: float) -> None:
    """Refuse every send, let the bot work for `after` seconds, kill it, accept sends again."""
    api.fail_next("sendMessage", retry_after=REFUSED, times=1_000_000)
    await asyncio.sleep(after)
    await bot.kill()
    api.clear_faults()


async def test_a_burst_killed_mid_batch_loses_no_update(launch: Launch) -> None:
    async with FakeTelegramAPI() as api:
        bot = launch(api)
        await bot.start()
        chats = [FIRST_CHAT + n for n in range(400)]
        api.fail_next("sendMessage", retry_after=REFUSED, times=1_000_000)
        for chat in chats:
            api.push(api.text_update(api.user(chat, f"Resident {chat}"), "/start"))
        # Killed as the third call confirms two batches of 100, before they can all be handled.
        await api.wait_calls("getUpdates", count=4, timeout=30)
        await bot.kill()
        api.clear_faults()
        await bot.start()
        await api.wait_for(lambda: all(accepted(api, c) for c in chats), 60, "every answer")
        await asyncio.sleep(0.5)  # room for a second copy, were one owed
        await bot.stop()
    twice = {c: accepted(api, c) for c in chats if len(accepted(api, c)) != 1}
    assert not twice, twice
    assert all("113" in accepted(api, chat)[0] for chat in chats)


async def walk(api: FakeTelegramAPI, chat: int) -> None:
    """A resident walking the tip flow, each step only once the answer to the last arrived."""
    user = api.user(chat, f"Resident {chat}")
    for step, (words, marker) in enumerate(zip(FLOW, MARKERS, strict=True)):
        api.push(api.text_update(user, words.format(chat=chat)))
        got_it = functools.partial(answered, api, chat, marker)
        await api.wait_for(got_it, 120, f"chat {chat} step {step}")


def answered(api: FakeTelegramAPI, chat: int, marker: str) -> bool:
    """Whether the answer that starts with `marker` got through to the chat."""
    return any(marker in text for text in accepted(api, chat))


async def test_residents_killed_between_commit_and_answer_get_one_receipt_each(
    launch: Launch,
) -> None:
    async with FakeTelegramAPI() as api:
        bot = launch(api)
        await bot.start()
        chats = [FIRST_CHAT + n for n in range(24)]
        residents = asyncio.gather(*(walk(api, chat) for chat in chats))
        for after in (0.3, 0.8, 0.5):
            await asyncio.sleep(after)  # the flow goes on ...
            await kill_while_refused(bot, api, after=0.6)  # ... commits, answers refused, kill
            await bot.start()
        await asyncio.wait_for(residents, 180)
        await asyncio.sleep(0.5)
        await bot.stop()
    for chat in chats:
        texts = accepted(api, chat)
        # One answer per step, each once, in the flow's order: no step skipped or repeated.
        assert [next(m for m in MARKERS if m in text) for text in texts] == MARKERS, texts
        assert sum("Mã tin" in text for text in texts) == 1


async def until_taken(
    api: FakeTelegramAPI, url: str, update: JSONDict, secret: str, taken: list[int]
) -> None:
    """Telegram's side of a webhook: the same update again until the bot answers 2xx."""
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            if await api.post_webhook(url, update, secret) == 200:
                taken.append(update["update_id"])
                return
        await asyncio.sleep(0.2)


async def test_a_webhook_killed_mid_burst_answers_every_update_once(launch: Launch) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    webhook = ("webhook", "--listen", f"127.0.0.1:{port}", "--url", url)
    async with FakeTelegramAPI() as api:
        bot = launch(api)
        await bot.start(*webhook)
        secret = str(api.calls_to("setWebhook")[-1].params["secret_token"])
        chats = [FIRST_CHAT + n for n in range(400)]
        updates = [  # numbered once: a redelivery is the same update
            {**api.text_update(api.user(c, f"Resident {c}"), "/start"), "update_id": 9000 + n}
            for n, c in enumerate(chats)
        ]
        api.fail_next("sendMessage", retry_after=REFUSED, times=1_000_000)
        taken: list[int] = []
        delivering = asyncio.gather(*(until_taken(api, url, u, secret, taken) for u in updates))
        async with asyncio.timeout(30):
            while len(taken) < 100:  # noqa: ASYNC110 - the posts are ours, not the fake's
                await asyncio.sleep(0.005)
        await bot.kill()  # some taken, some in flight, some not yet sent
        api.clear_faults()
        await bot.start(*webhook)
        await asyncio.wait_for(delivering, 60)
        for update in updates[:20]:  # Telegram may deliver again what was taken
            await until_taken(api, url, update, secret, taken)
        await api.wait_for(lambda: all(accepted(api, c) for c in chats), 60, "every answer")
        await asyncio.sleep(0.5)  # room for a second copy, were one owed
        await bot.stop()
    assert all(len(accepted(api, chat)) == 1 for chat in chats)


def sender_of(update: JSONDict) -> str:
    """The Zalo user who sent an update, wrapped or bare."""
    return str(update.get("result", update)["message"]["from"]["id"])


async def test_zalo_polling_killed_mid_burst_loses_at_most_the_update_in_the_air(
    launch: Launch,
) -> None:
    async with FakeZaloBotAPI() as zalo:
        bot = launch(zalo)
        await bot.start()
        users = [str(720_000 + n) for n in range(300)]
        # Refused with 429, the bot waits 5 s before any send: no answer is in flight at the kill.
        zalo.fail_next("sendMessage", error_code=429, times=1_000_000)
        for user in users:
            zalo.push(zalo.text_update(user, "/start"))
        await zalo.wait_for(lambda: len(zalo.handed_out) >= 100, 30)
        await bot.kill()
        # Zalo hands each update out once, with no offset to confirm it: the one whose answer
        # to getUpdates the bot had not yet stored when it died is gone with it.
        in_the_air = sender_of(zalo.handed_out[-1])
        zalo.clear_faults()
        await bot.start()
        others = [user for user in users if user != in_the_air]
        await zalo.wait_for(lambda: all(zalo.sent_texts(user) for user in others), 90)
        await asyncio.sleep(0.5)  # room for a second copy, were one owed
        await bot.stop()
    answered = {user: len(zalo.sent_texts(user)) for user in users}
    assert all(answered[user] == 1 for user in others), {
        user: count for user, count in answered.items() if count != 1
    }
    assert answered[in_the_air] <= 1
