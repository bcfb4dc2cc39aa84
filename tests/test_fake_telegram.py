"""The fake Bot API answers the real python-telegram-bot client the way Telegram does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import ClientSession, web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fake_telegram import MOST_FILE_BYTES, FakeTelegramAPI


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake API."""
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """A real PTB Bot talking to the fake."""
    async with Bot(
        fake.token, base_url=f"{fake.root}/bot", base_file_url=f"{fake.root}/file/bot"
    ) as client:
        yield client


async def test_get_me_identifies_the_test_bot(fake: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        123456,
        "tipline_test_bot",
        "Tipline Test",
        True,
    )
    assert fake.root.startswith("http://127.0.0.1:")
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]  # initialize() + get_me()


async def test_send_message_round_trips_an_inline_keyboard(fake: FakeTelegramAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
    first = await bot.send_message(42, "Bạn chắc chứ?", reply_markup=keyboard)
    second = await bot.send_message(42, "{}")
    group = await bot.send_message(-100, "hello group")

    assert first.chat.type == "private" and group.chat.type == "group"
    assert second.message_id == first.message_id + 1
    assert first.from_user is not None and first.from_user.id == 123456
    assert first.reply_markup == keyboard and second.reply_markup is None
    (call,) = fake.calls_to("sendMessage", chat_id=42, text="Bạn chắc chứ?")
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]
    }
    assert call.result["message_id"] == first.message_id
    assert fake.sent_texts("42") == ["Bạn chắc chứ?", "{}"]


async def test_get_updates_confirms_below_offset_and_parses(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    alice = fake.user(7, "Alice", username="alice")
    ids = [
        fake.push(fake.text_update(alice, "/start@tipline_test_bot code")),
        fake.push(fake.callback_update(alice, "cat:theft", message_id=5)),
        fake.push(fake.photo_update(alice, "AgACphoto", caption="xe máy")),
    ]
    assert ids == [1000, 1001, 1002]

    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == [1000, 1001]
    message = first[0].message
    assert message is not None and message.chat.type == "private"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 23
    assert first[1].callback_query is not None and first[1].callback_query.data == "cat:theft"

    rest = await bot.get_updates(offset=1001)
    assert [u.update_id for u in rest] == [1001, 1002]
    assert rest[1].message is not None and rest[1].message.photo[-1].file_id == "AgACphoto"
    assert await bot.get_updates(offset=1003) == ()
    assert fake.pending_updates == []


async def test_long_poll_wakes_when_an_update_is_pushed(fake: FakeTelegramAPI, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_calls("getUpdates", timeout=5)
    fake.push(fake.text_update(fake.user(8), "chào"))
    (got,) = await poll
    assert got.message is not None and got.message.text == "chào"
    assert time.monotonic() - started < 2


async def test_get_updates_conflicts_while_a_webhook_is_set(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (fake.webhook_url, fake.webhook_secret) == ("https://example.org/hook", "s3cret")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert fake.calls_to("getUpdates")[-1].failed

    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_flood_control_surfaces_as_retry_after(
    fake: FakeTelegramAPI, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "first")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(42, "second")
    assert [c.failed for c in fake.calls_to("sendMessage")] == [True, False]
    assert fake.sent_texts(42) == ["second"]


async def test_blocked_user_surfaces_as_forbidden(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hello")


async def test_wrong_token_and_unknown_method(fake: FakeTelegramAPI, bot: Bot) -> None:
    stranger = Bot("999:wrong", base_url=f"{fake.root}/bot")
    try:
        with pytest.raises(InvalidToken):
            await stranger.get_me()
    finally:
        await stranger.request.shutdown()
    async with ClientSession() as session:
        async with session.post(f"{fake.root}/bot{fake.token}/noSuchMethod", json={}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        sent = {"chat_id": 5, "text": "json body"}
        async with session.post(f"{fake.root}/bot{fake.token}/SENDMESSAGE", json=sent) as resp:
            assert (await resp.json())["result"]["text"] == "json body"
    assert fake.calls_to("sendMessage")[0].params == sent


async def test_files_download_and_uploads_come_back(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.files["AgACphoto"] = b"\xff\xd8 the photo"
    photo = await bot.get_file("AgACphoto")
    assert photo.file_path == f"{fake.root}/file/bot{fake.token}/photos/AgACphoto.jpg"
    assert await photo.download_as_bytearray() == bytearray(b"\xff\xd8 the photo")

    sent = await bot.send_document(42, b"a,b\n1,2\n", filename="digest.csv", caption="Digest")
    assert sent.document is not None and sent.document.file_name == "digest.csv"
    uploaded = await bot.get_file(sent.document.file_id)
    assert await uploaded.download_as_bytearray() == bytearray(b"a,b\n1,2\n")


async def test_files_are_only_what_telegram_keeps_and_lets_bots_download(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("AgACnever-seen")
    fake.keep_file("BQACbig", b"\0" * (MOST_FILE_BYTES + 1), "documents/file_9.mp4")
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file("BQACbig")
    fake.keep_file("BQACsmall", b"%PDF-1.7", "documents/file_8.pdf")
    small = await bot.get_file("BQACsmall")
    assert small.file_size == 8 and str(small.file_path).endswith("/documents/file_8.pdf")
    async with ClientSession() as session:
        # Only a path getFile gave out, and only with the bot's token.
        for path in (f"bot{fake.token}/documents/file_9.mp4", "botWRONG/documents/file_8.pdf"):
            async with session.get(f"{fake.root}/file/{path}") as response:
                assert response.status == 404


async def test_wait_calls_wakes_on_the_call(fake: FakeTelegramAPI, bot: Bot) -> None:
    waiter = asyncio.create_task(fake.wait_calls("sendMessage", count=2, chat_id=42))
    await bot.send_message(42, "one")
    await bot.send_message(43, "elsewhere")
    assert not waiter.done()
    await bot.send_message(42, "two")
    calls = await asyncio.wait_for(waiter, 1)
    assert [c.params["text"] for c in calls] == ["one", "two"]

    with pytest.raises(AssertionError, match=r"(?s)1 copyMessage call.*sendMessage.*two"):
        await fake.wait_calls("copyMessage", timeout=0.05)


async def test_application_polls_and_answers(fake: FakeTelegramAPI) -> None:
    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.root}/bot")
        .base_file_url(f"{fake.root}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    fake.push(fake.text_update(fake.user(11), "sớm"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=["message"], drop_pending_updates=True)
        fake.push(fake.edited_text_update(fake.user(11), "not allowed", message_id=1))
        fake.push(fake.text_update(fake.user(11), "xin chào"))
        await fake.wait_calls("sendMessage", chat_id=11)
        await app.updater.stop()
        await app.stop()
    assert fake.sent_texts(11) == ["echo: xin chào"]
    assert fake.calls_to("getUpdates")[0].params["allowed_updates"] == ["message"]
    assert fake.pending_updates == []


async def test_post_webhook_sends_update_and_secret(fake: FakeTelegramAPI) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        update = fake.text_update(fake.user(9), "hi")
        assert await fake.post_webhook(f"http://{host}:{port}/hook", update, "s3cret") == 200
    finally:
        await runner.cleanup()
    ((secret, body),) = received
    assert secret == "s3cret"
    assert body["update_id"] == 1000 and body["message"] == update["message"]
