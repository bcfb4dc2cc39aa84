"""What reaches the webhooks and the poller that is not a readable update: a clear 400 or a skip."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot.channels.telegram import WEBHOOK_SECRET_HEADER
from bot.channels.zalo import SECRET_HEADER, ZaloChannel
from bot.channels.zalo_oa import TokenFile, ZaloOAChannel, ZaloOAClient
from bot.runtime import Runtime
from tests.e2e.conftest import quick_answers, telegram_channel
from tests.e2e.test_zalo_oa import USER, texts_to
from tests.fake_telegram import FakeTelegramAPI
from tests.fake_zalo import TOKEN, FakeZaloBotAPI
from tests.fake_zalo_oa import APP_ID, SECRET_KEY, FakeZaloOA, oa_event, post_event, signed
from tests.local_server import serve_locally

JSONDict = dict[str, Any]
ZALO_SECRET = "s3cret-s3cret"

# (body, Content-Type): none of them is a JSON object.
UNREADABLE = [
    pytest.param(b"[" * 100_000, "application/json", id="deeper-than-the-parser-goes"),
    pytest.param(
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "application/json", id="deep-yet-well-formed"
    ),
    pytest.param(b"{not json", "application/json", id="not-json"),
    pytest.param('{"update_id": 1}'.encode("utf-16"), "application/json", id="utf-16"),
    pytest.param(b'{"update_id": 1, "x": "\xff"}', "application/json", id="not-utf-8"),
    pytest.param(b"[1, 2, 3]", "application/json", id="an-array"),
    pytest.param(b'"update"', "application/json", id="a-string"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"[1]", "application/json; charset=no-such-charset", id="unknown-charset"),
]


@asynccontextmanager
async def webhook(mount: Callable[[web.Application], None]) -> AsyncIterator[str]:
    """A real aiohttp server with a channel's webhook mounted at /hook; yields its URL."""
    app = web.Application()
    mount(app)
    runner, root = await serve_locally(app)
    try:
        yield f"{root}/hook"
    finally:
        await runner.cleanup()


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST a raw body; returns the status and the answer's text."""
    async with ClientSession() as session, session.post(url, data=body, headers=headers) as r:
        return r.status, await r.text()


def assert_no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
async def test_the_telegram_and_zalo_webhooks_answer_400_to_what_is_not_a_json_object(
    runtime: Runtime,
    api: FakeTelegramAPI,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
) -> None:
    telegram = telegram_channel(runtime, api, polling=False)
    await telegram.start()
    zalo = ZaloChannel(
        runtime, TOKEN, "http://127.0.0.1:1", answers=quick_answers(runtime), polling=False
    )  # never called
    try:
        async with (
            webhook(lambda app: telegram.add_webhook(app, "/hook", "tg-secret")) as tg_url,
            webhook(lambda app: zalo.add_webhook(app, "/hook", ZALO_SECRET)) as zalo_url,
        ):
            sent = {"Content-Type": content_type}
            answers = [
                await post(tg_url, body, {**sent, WEBHOOK_SECRET_HEADER: "tg-secret"}),
                await post(zalo_url, body, {**sent, SECRET_HEADER: ZALO_SECRET}),
            ]
    finally:
        await telegram.stop()
        await zalo.stop()
    assert answers == [(400, "not a JSON object")] * 2
    assert_no_errors_logged(caplog)


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
async def test_the_zalo_oa_webhook_answers_400_to_what_is_not_a_json_object(
    runtime: Runtime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
) -> None:
    tokens = TokenFile(tmp_path / "zalo-oa-tokens.json")
    tokens.save("access-1", "refresh-1")
    async with FakeZaloOA(lambda: tokens.path.read_text("utf-8")) as oa:
        client = ZaloOAClient(APP_ID, SECRET_KEY, tokens, api_root=oa.root, oauth_root=oa.root)
        channel = ZaloOAChannel(runtime, client, answers=quick_answers(runtime))
        await channel.start()
        try:
            async with webhook(lambda app: channel.add_webhook(app, "/hook")) as url:
                status, text = await post(url, body, {"Content-Type": content_type})
                assert (status, text) == (400, "not a JSON object")
                # A signed event is still answered as before.
                event, signature = signed(oa_event("follow", USER))
                assert await post_event(url, event, signature) == 200
                await texts_to(oa, USER, 1)
        finally:
            await channel.stop()
    assert_no_errors_logged(caplog)


def numbered(api: FakeTelegramAPI, user_id: int, update_id: Any) -> JSONDict:
    """A /help from the user, under the given update_id."""
    return {**api.text_update(api.user(user_id, "Người dùng"), "/help"), "update_id": update_id}


# update_id values no Telegram update has: not integers, a bool, negative, beyond 2**53.
BAD_UPDATE_IDS: list[Any] = [1.5, True, -1, "7", None, 2**53 + 1, 10**100]


async def test_the_telegram_webhook_refuses_update_ids_telegram_never_sends(
    runtime: Runtime, api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    channel = telegram_channel(runtime, api, polling=False)
    await channel.start()
    headers = {WEBHOOK_SECRET_HEADER: "tg-secret", "Content-Type": "application/json"}
    try:
        async with webhook(lambda app: channel.add_webhook(app, "/hook", "tg-secret")) as url:
            for n, update_id in enumerate(BAD_UPDATE_IDS):
                update = numbered(api, 6000 + n, update_id)
                status, text = await post(url, json.dumps(update).encode(), headers)
                assert (status, text) == (400, "not an update"), update_id
            for n, update_id in enumerate([0, 2**53]):  # the smallest and the largest taken
                update = numbered(api, 7000 + n, update_id)
                status, _ = await post(url, json.dumps(update).encode(), headers)
                assert status == 200 and api.sent_texts(7000 + n), update_id
    finally:
        await channel.stop()
    assert not any(api.sent_texts(6000 + n) for n in range(len(BAD_UPDATE_IDS)))
    assert_no_errors_logged(caplog)


async def test_polled_updates_with_unusable_update_ids_are_skipped_without_their_number(
    runtime: Runtime, api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # Beyond 2**53 is left out: the fake would hand it out again after the next offset.
    bad = [1.5, True, -1, "7"]
    for n, update_id in enumerate(bad):
        api.push(numbered(api, 6100 + n, update_id))
    api.push(numbered(api, 7100, 100))
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    try:
        await api.wait_calls("sendMessage", chat_id=7100)
    finally:
        await channel.stop()
    assert not any(api.sent_texts(6100 + n) for n in range(len(bad)))
    unreadable = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert unreadable == ["update=None unreadable: ValueError"] * len(bad)


def mistyped(update: JSONDict) -> list[JSONDict]:
    """The update with, in turn, each field it holds (at any depth) of the wrong type."""
    variants: list[JSONDict] = []
    for key, value in update.items():
        wrong: list[Any] = ["x", 7, [], None] if isinstance(value, dict) else [{}, [1], None]
        variants += [{**update, key: other} for other in wrong]
        if isinstance(value, dict):
            variants += [{**update, key: inner} for inner in mistyped(value)]
    return variants


async def test_webhook_updates_with_fields_of_the_wrong_type_never_get_a_500(
    runtime: Runtime,
    api: FakeTelegramAPI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    telegram = telegram_channel(runtime, api, polling=False)
    await telegram.start()
    tokens = TokenFile(tmp_path / "zalo-oa-tokens.json")
    tokens.save("access-1", "refresh-1")
    tg_update = api.text_update(api.user(8100, "Người dùng"), "/help")
    zalo_update = {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": "z-1", "display_name": "A"},
            "chat": {"id": "z-1", "chat_type": "PRIVATE"},
            "text": "/help",
            "message_id": "m-1",
            "location": {"latitude": 10.0, "longitude": 105.0},
        },
    }
    oa_update = oa_event("user_send_text", USER, {"msg_id": "m-1", "text": "/help"})
    statuses: dict[str, set[int]] = {"telegram": set(), "zalo": set(), "zalo_oa": set()}
    async with (
        FakeZaloOA(lambda: tokens.path.read_text("utf-8")) as oa,
        FakeZaloBotAPI() as zalo_api,
    ):
        client = ZaloOAClient(APP_ID, SECRET_KEY, tokens, api_root=oa.root, oauth_root=oa.root)
        zalo_oa = ZaloOAChannel(runtime, client, answers=quick_answers(runtime))
        await zalo_oa.start()
        zalo = ZaloChannel(
            runtime, TOKEN, zalo_api.root, answers=quick_answers(runtime), polling=False
        )
        await zalo.start()
        try:
            async with (
                webhook(lambda app: telegram.add_webhook(app, "/hook", "tg-secret")) as tg_url,
                webhook(lambda app: zalo.add_webhook(app, "/hook", ZALO_SECRET)) as zalo_url,
                webhook(lambda app: zalo_oa.add_webhook(app, "/hook")) as oa_url,
            ):
                sent = {"Content-Type": "application/json"}
                for n, update in enumerate(mistyped(tg_update)):
                    body = json.dumps({**update, "update_id": 50_000 + n}).encode()
                    tg = {**sent, WEBHOOK_SECRET_HEADER: "tg-secret"}
                    statuses["telegram"].add((await post(tg_url, body, tg))[0])
                for update in mistyped(zalo_update):
                    body = json.dumps(update).encode()
                    z = {**sent, SECRET_HEADER: ZALO_SECRET}
                    statuses["zalo"].add((await post(zalo_url, body, z))[0])
                for update in mistyped(oa_update):
                    body, signature = signed(update)
                    statuses["zalo_oa"].add(await post_event(oa_url, body, signature))
        finally:
            await zalo_oa.stop()
            await telegram.stop()
            await zalo.stop()
    # Taken and skipped (200) or refused as no update (400): never a crash.
    assert all(codes <= {200, 400} for codes in statuses.values()), statuses
    assert_no_errors_logged(caplog)
