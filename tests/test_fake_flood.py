"""The limit-enforcing fake Bot API refuses what Telegram would, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession, ClientTimeout

from tests.fake_flood import LimitedTelegramAPI, TelegramLimits, posts_message


class Seconds:
    """The fake's clock, moved by hand: the limits are about time, the tests are not."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Seconds:
    """A clock standing still until a test moves it."""
    return Seconds()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    """A plain HTTP client, to read the fake's answers as Telegram's JSON."""
    async with ClientSession() as session:
        yield session


async def call(
    http: ClientSession, api: LimitedTelegramAPI, method: str, **fields: Any
) -> tuple[int, dict[str, Any]]:
    """One Bot API call; returns the HTTP status and the JSON answer."""
    async with http.post(f"{api.root}/bot{api.token}/{method}", json=fields) as response:
        return response.status, await response.json()


async def test_the_31st_message_in_a_second_gets_429_with_retry_after(
    clock: Seconds, http: ClientSession
) -> None:
    heard: list[int] = []
    limits = TelegramLimits(retry_after=3)
    api = LimitedTelegramAPI(limits, clock=clock, on_message=lambda c, _, __: heard.append(c))
    async with api:
        for chat in range(30):
            clock.now += 0.01
            assert (await call(http, api, "sendMessage", chat_id=chat, text="hi"))[0] == 200
        status, body = await call(http, api, "sendMessage", chat_id=99, text="one too many")

        assert status == 429 and body["ok"] is False and body["error_code"] == 429
        assert body["parameters"] == {"retry_after": 3}
        assert api.refused == {"bot": 1}
        # Refused, so not delivered: not in the texts, not counted, not heard.
        assert api.sent_texts(99) == [] and len(api.accepted) == 30 and 99 not in heard
        assert api.busiest_second() == 30
        assert (await call(http, api, "getMe"))[0] == 200  # only messages are limited


async def test_inside_the_flood_wait_everything_is_refused_and_after_it_accepted(
    clock: Seconds, http: ClientSession
) -> None:
    async with LimitedTelegramAPI(TelegramLimits(retry_after=3), clock=clock) as api:
        for chat in range(31):
            await call(http, api, "sendMessage", chat_id=chat, text="hi")
        clock.now += 2.9  # the window has emptied, but Telegram said 3 s
        status, body = await call(http, api, "sendPhoto", chat_id=50, photo="AgAC")
        assert status == 429 and body["parameters"] == {"retry_after": 1}

        clock.now += 0.1
        status, body = await call(http, api, "sendMessage", chat_id=50, text="now")
        assert status == 200 and body["result"]["text"] == "now"
        assert api.refused == {"bot": 1, "wait": 1}
        assert api.sent_texts(50) == ["now"]


async def test_a_chats_fourth_message_in_a_burst_gets_429(
    clock: Seconds, http: ClientSession
) -> None:
    async with LimitedTelegramAPI(TelegramLimits(chat_burst=3, chat_rate=1.0), clock=clock) as api:
        answers = [
            (await call(http, api, "sendMessage", chat_id=7, text=f"m{n}")) for n in range(4)
        ]
        assert [status for status, _ in answers] == [200, 200, 200, 429]
        assert answers[3][1]["parameters"] == {"retry_after": 1}
        assert (await call(http, api, "sendMessage", chat_id=8, text="other chat"))[0] == 200

        clock.now += 0.5  # half a token back, and the chat's flood wait still runs
        assert (await call(http, api, "sendMessage", chat_id=7, text="too soon"))[0] == 429
        clock.now += 0.5
        assert (await call(http, api, "sendMessage", chat_id=7, text="m4"))[0] == 200
        assert (await call(http, api, "sendMessage", chat_id=7, text="m5"))[0] == 429
        assert api.sent_texts(7) == ["m0", "m1", "m2", "m4"]
        assert api.refused == {"chat": 2, "wait": 1}


async def test_edits_and_copies_count_as_messages(clock: Seconds, http: ClientSession) -> None:
    async with LimitedTelegramAPI(TelegramLimits(chat_burst=2), clock=clock) as api:
        await call(http, api, "sendMessage", chat_id=5, text="first")
        await call(http, api, "editMessageText", chat_id=5, message_id=1, text="edited")
        assert (await call(http, api, "copyMessage", chat_id=5, from_chat_id=6, message_id=1))[
            0
        ] == 429
    assert [posts_message(m) for m in ("sendVoice", "sendChatAction", "getUpdates")] == [
        True,
        False,
        False,
    ]


async def test_a_bad_request_costs_nothing(clock: Seconds, http: ClientSession) -> None:
    async with LimitedTelegramAPI(TelegramLimits(chat_burst=1), clock=clock) as api:
        assert (await call(http, api, "sendMessage", chat_id=5, text=" "))[0] == 400
        assert (await call(http, api, "sendMessage", chat_id=5, text="counted"))[0] == 200
        assert api.accepted == [clock.now] and not api.refused


async def test_a_failing_call_is_never_delivered(clock: Seconds, http: ClientSession) -> None:
    outcomes: list[str] = []
    async with LimitedTelegramAPI(TelegramLimits(faults=1.0), clock=clock) as api:
        for n in range(12):
            try:
                async with http.post(
                    f"{api.root}/bot{api.token}/sendMessage",
                    json={"chat_id": 5, "text": f"m{n}"},
                    timeout=ClientTimeout(sock_read=0.2),  # the held ones: give up soon
                ) as response:
                    outcomes.append(str(response.status))
            except (ClientError, TimeoutError):
                outcomes.append("no answer")
        assert api.sent_texts(5) == [] and api.accepted == []
        assert set(outcomes) == {"502", "no answer"}
        assert set(api.failed) == {"502", "held", "dropped"}
        assert sum(api.failed.values()) == 12
        assert (await call(http, api, "getMe"))[0] == 200  # start-up calls never fail
