"""End-to-end fixtures: SQLite files on disk, time that passes, a fake Bot API server, the real
bot polling it, and a Telegram resident who taps through the bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.answers import AnswerSender
from bot.channels.telegram import TelegramChannel
from bot.logs import setup_logging
from bot.outbox import OutboxSender
from bot.pacing import Pacer
from bot.runtime import Runtime
from handlers.officers.enrolment import invite_officer
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegramAPI
from tests.messages import filled, says

JSONDict = dict[str, Any]
OFFICER_ID = 5550123


class TickingClock(FakeClock):
    """A fake clock that moves two seconds whenever it is read, like a person typing."""

    def __call__(self) -> datetime:
        self.advance(seconds=2)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """Time that passes as the bot works, so per-minute limits behave as with people."""
    return TickingClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """End-to-end tests run on SQLite files, so their raw bytes can be searched."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tipline.db'}"


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API server."""
    async with FakeTelegramAPI() as fake:
        yield fake


_BOTS: list[asyncio.subprocess.Process] = []


async def spawn_bot(
    *args: str, cwd: Path, env: dict[str, str], typed: bool = False
) -> asyncio.subprocess.Process:
    """`tipline ARGS` started in the background, its output piped (and its input, when it is
    `typed` into, as a console is); killed after the test if it still runs then (a failed
    check stops a test before it stops the bot)."""
    stdin = asyncio.subprocess.PIPE if typed else None
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env, stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _BOTS.append(process)
    return process


@pytest.fixture(autouse=True)
def _no_bot_left_running() -> Iterator[None]:
    yield
    while _BOTS:
        process = _BOTS.pop()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Distinctive identity of the tipster: none of it may appear in the database or the logs.
TIPSTER_ID = 987654321
TIPSTER_USERNAME = "zyxwvu_tipster"
TIPSTER_FIRST = "Quỳnh Zyxwvu"
TIPSTER_LAST = "Bí Mật"
TIPSTER_PHONE = "+84912345678"


def quick_answers(runtime: Runtime) -> AnswerSender:
    """Answers sent as fast as the fake takes them: pacing has tests of its own."""
    pacers = dict.fromkeys(("telegram", "zalo", "zalo_oa"), Pacer(1000, 0))
    return AnswerSender(runtime.db, runtime.commits, runtime.sealer, pacers)


def telegram_channel(runtime: Runtime, api: FakeTelegramAPI, *, polling: bool) -> TelegramChannel:
    """The real bot on the fake API, its answers unpaced."""
    answers = quick_answers(runtime)
    return TelegramChannel(runtime, api.token, api.root, answers=answers, polling=polling)


@pytest.fixture
async def polling(runtime: Runtime, api: FakeTelegramAPI) -> AsyncIterator[TelegramChannel]:
    """The real bot polling the fake API."""
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    yield channel
    await channel.stop()


class Resident:
    """A Telegram user tapping through the bot, seen from the Bot API's side."""

    def __init__(self, api: FakeTelegramAPI, user: JSONDict, chat_id: int | None = None):
        self.api = api
        self.user = user
        self.chat_id = chat_id if chat_id is not None else int(user["id"])

    def sent(self) -> list[JSONDict]:
        """Every message the bot sent to this chat, in order."""
        return [c.params for c in self.api.calls_to("sendMessage", chat_id=self.chat_id)]

    def keyboards(self) -> list[tuple[int, JSONDict]]:
        """(message id, inline keyboard) of every message the bot sent or redrew, oldest first."""
        found = []
        for call in self.api.calls:
            if call.failed or str(call.params.get("chat_id")) != str(self.chat_id):
                continue
            markup = call.params.get("reply_markup") or {}
            if call.method == "sendMessage" and "inline_keyboard" in markup:
                found.append((int(call.result["message_id"]), markup))
            elif call.method == "editMessageText" and "inline_keyboard" in markup:
                found.append((int(call.params["message_id"]), markup))
        return found

    async def _expect(self, update: JSONDict, replies: int) -> list[JSONDict]:
        before = len(self.sent())
        self.api.push(update)
        if replies == 0:
            return []
        await self.api.wait_calls("sendMessage", count=before + replies, chat_id=self.chat_id)
        return self.sent()[before:]

    async def send(self, text: str, replies: int = 1, **fields: Any) -> list[JSONDict]:
        """Type a message; wait for `replies` messages back."""
        update = self.api.text_update(self.user, text, self.chat_id, **fields)
        return await self._expect(update, replies)

    async def push(self, update: JSONDict, replies: int = 1) -> list[JSONDict]:
        """Send a prepared update; wait for `replies` messages back."""
        return await self._expect(update, replies)

    def button(self, label: str) -> tuple[str, int]:
        """The callback data and message id of the newest button whose label contains `label`."""
        for message_id, markup in reversed(self.keyboards()):
            for row in markup["inline_keyboard"]:
                for button in row:
                    if label.lower() in button["text"].lower():
                        return button["callback_data"], message_id
        raise AssertionError(f"no button {label!r} in the bot's messages")

    async def press(self, label: str, replies: int = 1) -> list[JSONDict]:
        """Tap an inline button."""
        data, message_id = self.button(label)
        update = self.api.callback_update(self.user, data, message_id, self.chat_id)
        return await self._expect(update, replies)

    async def press_data(self, data: str, replies: int = 1) -> list[JSONDict]:
        """Send a button press with arbitrary (possibly forged) callback data."""
        update = self.api.callback_update(self.user, data, 1, self.chat_id)
        return await self._expect(update, replies)


def texts(messages: list[JSONDict]) -> str:
    return "\n".join(str(m["text"]) for m in messages)


@pytest.fixture
def tipster(api: FakeTelegramAPI) -> Resident:
    """A resident with a very recognisable identity."""
    user = api.user(TIPSTER_ID, TIPSTER_FIRST, username=TIPSTER_USERNAME, last_name=TIPSTER_LAST)
    return Resident(api, user)


async def file_tip_with_photo(tipster: Resident, *, contact: bool) -> tuple[str, str]:
    """The whole resident flow over Telegram; returns the receipt's code and passphrase."""
    api = tipster.api
    assert says(texts(await tipster.send("/start")), "start")
    await tipster.press("Gửi tin báo")
    await tipster.press("Ma túy")
    redrawn = len(api.calls_to("editMessageText", chat_id=TIPSTER_ID))
    await tipster.press("Tiếp", replies=0)  # a page turn redraws the message in place
    edits = await api.wait_calls("editMessageText", count=redrawn + 1, chat_id=TIPSTER_ID)
    assert says(edits[-1].params["text"], "ask.area", page=2, pages=3)
    await tipster.press("Mai Thủy")
    location_prompt = tipster.sent()[-1]
    keyboard = location_prompt["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    await tipster.push(api.location_update(tipster.user, 17.21, 106.79), replies=2)
    await tipster.send("Nhà số 5 có mua bán ma túy <b>đêm qua</b>")
    await tipster.push(api.photo_update(tipster.user, "AgACAgPhotoFileIdXYZ", caption="ảnh"))
    await tipster.push(api.contact_update(tipster.user, TIPSTER_PHONE, TIPSTER_FIRST), replies=2)
    await tipster.press("Hôm nay")
    review = await tipster.press("Không")
    assert says(texts(review), "review", files=1)
    return receipt_of(await tipster.press("cho phép" if contact else "không cho liên hệ"))


def database_bytes(folder: Path) -> tuple[list[str], bytes]:
    """The names and the raw bytes of the SQLite database and its WAL and shared-memory files."""
    files = sorted(folder.glob("tipline.db*"))
    return [f.name for f in files], b"".join(f.read_bytes() for f in files)


@pytest.fixture
def production_logs() -> Iterator[io.StringIO]:
    """Logging configured as `tipline run` does at DEBUG, with every line also kept here."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging("DEBUG")
    kept = io.StringIO()
    handler = logging.StreamHandler(kept)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    yield kept
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


async def type_tip(tipster: Resident, *, area: str, story: list[str], urgent: bool) -> None:
    """Walk /tip by typing the area and the story, as far as the review."""
    await tipster.send("/tip")
    await tipster.press("Ma túy")
    await tipster.send(area)
    await tipster.send("Bỏ qua")
    for piece in story:
        await tipster.send(piece)
    await tipster.press("Hôm nay")
    await tipster.press("Có" if urgent else "Không", replies=2 if urgent else 1)


def receipt_of(messages: list[JSONDict]) -> tuple[str, str]:
    """The tip code and passphrase in a receipt."""
    values = filled(texts(messages), "receipt")
    return values["code"], values["passphrase"]


@pytest.fixture
async def delivering(runtime: Runtime, polling: TelegramChannel) -> AsyncIterator[None]:
    """The outbox sender running, as in `tipline run`."""
    task = asyncio.create_task(OutboxSender(runtime, {"telegram": polling}).run_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def invited(runtime: Runtime, name: str, area: str | None) -> str:
    """A one-time invite code for a new officer, as the operator makes one."""
    async with runtime.db.transaction() as db:
        _, code = await invite_officer(
            db, runtime.context(), name=name, area=area, is_admin=False, created_by=None
        )
    return code


async def enrolled_officer(runtime: Runtime, api: FakeTelegramAPI, area: str | None) -> Resident:
    """An officer who opened their invite's deep link in Telegram."""
    code = await invited(runtime, "Trung úy Lê", area)
    officer = Resident(api, api.user(OFFICER_ID, "Lê", username="officer_le"))
    assert "Xin chào Trung úy Lê" in texts(await officer.send(f"/start off-{code}"))
    return officer
