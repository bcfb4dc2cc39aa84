"""Digests delivered by the real python-telegram-bot stack to a fake Bot API that enforces
Telegram's flood limits: a chart picture, then the text with its buttons, never twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.outbox import OutboxSender
from bot.runtime import Runtime
from bot.scheduler import run_digests
from storage.models import Officer, Outbox, OutboxState
from tests.conftest import FakeClock, Person
from tests.e2e.conftest import telegram_channel
from tests.fake_telegram import FakeTelegramAPI, Upload
from tests.test_officers import invite

SEVEN_AM = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 07:00 in Vietnam
FIRST_CHAT = 7000


@pytest.fixture
async def strict_api() -> AsyncIterator[FakeTelegramAPI]:
    """A Bot API that answers 429 beyond 30 messages a second, or beyond a burst of 3 and then
    one a second per chat."""
    async with FakeTelegramAPI(flood_control=True) as fake:
        yield fake


@pytest.fixture
async def channel(runtime: Runtime, strict_api: FakeTelegramAPI) -> AsyncIterator[TelegramChannel]:
    """The real bot, sending only (the digest needs no updates)."""
    telegram = telegram_channel(runtime, strict_api, polling=False)
    await telegram.start()
    yield telegram
    await telegram.stop()


async def enrol_on_telegram(runtime: Runtime, clock: FakeClock, count: int) -> None:
    """`count` officers enrolled from Telegram chats FIRST_CHAT, FIRST_CHAT + 1, ..."""
    clock.now = SEVEN_AM - timedelta(hours=20)
    for n in range(count):
        code = await invite(runtime, f"Officer {n}", None if n % 3 == 0 else "an-thuy")
        person = Person(runtime, user=f"u{n}", chat=str(FIRST_CHAT + n), channel="telegram")
        await person.send(f"/officer {code}")


async def deliver_all(runtime: Runtime, channel: TelegramChannel, clock: FakeClock) -> None:
    """Run the outbox until nothing is pending (the fake clock lets retries fall due)."""
    sender = OutboxSender(runtime, {"telegram": channel})
    for _ in range(60):
        await sender.run_once()
        async with runtime.db.transaction() as db:
            pending = await db.scalar(select(Outbox.id).where(Outbox.state == OutboxState.PENDING))
        if pending is None:
            return
        clock.advance(seconds=5)
        await asyncio.sleep(0.2)
    raise AssertionError("the outbox never emptied")


def sent_to(api: FakeTelegramAPI, chat: int) -> list[str]:
    """The methods that went through to one chat, in order (refused calls left out)."""
    return [
        c.method for c in api.calls if not c.failed and str(c.params.get("chat_id")) == str(chat)
    ]


async def test_a_morning_of_digests_stays_within_the_flood_limits(
    runtime: Runtime, clock: FakeClock, strict_api: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    await enrol_on_telegram(runtime, clock, 45)
    clock.now = SEVEN_AM
    assert await run_digests(runtime) == 45
    await deliver_all(runtime, channel, clock)
    assert strict_api.flood_refusals == 0
    for n in range(45):
        assert sent_to(strict_api, FIRST_CHAT + n)[-2:] == ["sendPhoto", "sendMessage"]
    photo = strict_api.calls_to("sendPhoto", chat_id=FIRST_CHAT)[0].params
    assert isinstance(photo["photo"], Upload)
    assert photo["photo"].data.startswith(b"\x89PNG")
    assert photo["caption"].startswith("Tin báo mỗi ngày, 14 ngày qua · Huyện Lệ Thủy")
    text = strict_api.calls_to("sendMessage", chat_id=FIRST_CHAT)[-1].params
    assert text["text"].startswith("☀️ Bản tin sáng 25/11 · Huyện Lệ Thủy")
    buttons = [b["callback_data"] for row in text["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["o:ls:new:0", "o:ls:overdue:0", "o:ls:open:0", "o:pts:today"]
    sends = sorted(c.at for c in strict_api.calls if c.method.startswith("send"))
    # Spread out, not a burst: one every 1/30 s on the pacer's beat (the first two together).
    assert len(sends) == 90 and (sends[-1] - sends[0]) >= 88 / 30


@pytest.mark.parametrize(
    "fault", [{"retry_after": 1}, {"status": 502, "description": "Bad Gateway"}], ids=str
)
async def test_a_refused_part_goes_again_and_nothing_is_sent_twice(
    runtime: Runtime,
    clock: FakeClock,
    strict_api: FakeTelegramAPI,
    channel: TelegramChannel,
    fault: dict[str, Any],
) -> None:
    await enrol_on_telegram(runtime, clock, 3)
    clock.now = SEVEN_AM
    await run_digests(runtime)
    strict_api.fail_next("sendMessage", **fault)  # the first text, after its chart
    await deliver_all(runtime, channel, clock)
    for n in range(3):
        assert sent_to(strict_api, FIRST_CHAT + n)[-2:] == ["sendPhoto", "sendMessage"]
        assert sent_to(strict_api, FIRST_CHAT + n).count("sendPhoto") == 1


async def test_a_blocked_officer_is_marked_unreachable(
    runtime: Runtime, clock: FakeClock, strict_api: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    await enrol_on_telegram(runtime, clock, 2)
    clock.now = SEVEN_AM
    await run_digests(runtime)
    strict_api.fail_next(
        "sendPhoto", status=403, description="Forbidden: bot was blocked by the user"
    )
    await deliver_all(runtime, channel, clock)
    async with runtime.db.transaction() as db:
        officers = list(await db.scalars(select(Officer).order_by(Officer.id)))
    assert officers[0].unreachable_reason == "blocked by the user"
    assert officers[1].unreachable_at is None
