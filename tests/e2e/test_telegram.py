"""End to end: the real python-telegram-bot stack, polling and webhook, against a fake Bot API."""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.channels.base import deliver
from bot.channels.telegram import TelegramChannel, to_incoming
from bot.outbox import OutboxSender
from bot.runtime import Runtime
from handlers.common.codes import parse_code
from handlers.common.notices import change_status
from handlers.common.texts import text, text_n
from handlers.common.types import Kind, Media, MediaKind, Reply
from storage.models import Outbox, OutboxState, Tip, TipStatus
from storage.tips import get_tip
from tests.conftest import FakeClock
from tests.e2e.conftest import (
    TIPSTER_FIRST,
    TIPSTER_ID,
    TIPSTER_LAST,
    TIPSTER_PHONE,
    TIPSTER_USERNAME,
    Resident,
    database_bytes,
    file_tip_with_photo,
    free_port,
    telegram_channel,
    texts,
)
from tests.fake_telegram import FakeTelegramAPI
from tests.messages import says

JSONDict = dict[str, Any]


async def test_complete_tip_with_photo_status_and_forget(
    polling: TelegramChannel, tipster: Resident, runtime: Runtime
) -> None:
    api = tipster.api
    code, passphrase = await file_tip_with_photo(tipster, contact=True)
    assert api.calls_to("answerCallbackQuery")
    assert api.calls_to("editMessageReplyMarkup", chat_id=TIPSTER_ID)  # old buttons retired
    assert all("parse_mode" not in params for params in tipster.sent())
    async with runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        assert tip.area == "mai-thuy" and tip.latitude == 17.21
        assert [a.ref for a in tip.attachments] == ["AgACAgPhotoFileIdXYZ"]
        assert "<b>đêm qua</b>" in tip.description
    await tipster.send(f"/status {code}")
    status = texts(await tipster.send(passphrase))
    assert says(status, "status.view", code=code, status=text("vi", "status.received"))
    assert says(status, "status.contact_on", code=code)
    assert says(texts(await tipster.send(f"/forget {code}")), "forget.confirm", code=code)
    assert says(texts(await tipster.press("Có, xóa")), "forget.done", code=code)


async def test_status_notice_goes_out_through_the_outbox_with_retries(
    polling: TelegramChannel, tipster: Resident, runtime: Runtime, clock: FakeClock
) -> None:
    api = tipster.api
    code, _ = await file_tip_with_photo(tipster, contact=True)
    async with runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        await change_status(db, runtime.context(), tip, status=TipStatus.HANDLED)
    outbox = OutboxSender(runtime, {"telegram": polling}, pacers=clock.pacers("telegram"))
    api.fail_next("sendMessage", retry_after=7)
    assert await outbox.run_once() == 1
    async with runtime.db.transaction() as db:
        row = await db.scalar(select(Outbox))
    assert row is not None and row.state is OutboxState.PENDING
    # Retried 7 s after the refusal (not the 15 s backoff); run_once then looked once more
    # for due messages, and this clock moves 2 s whenever it is read.
    assert 4 <= (row.next_attempt_at - clock.now).total_seconds() <= 5
    clock.advance(seconds=8)
    assert await outbox.run_once() == 1
    notice = tipster.sent()[-1]["text"]
    assert says(notice, "status.notice", code=code, status=text("vi", "status.handled"))


async def test_blocked_bot_marks_the_delivery_failed(
    polling: TelegramChannel, tipster: Resident, runtime: Runtime
) -> None:
    code, _ = await file_tip_with_photo(tipster, contact=True)
    async with runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        await change_status(db, runtime.context(), tip, status=TipStatus.VERIFYING)
    tipster.api.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    await OutboxSender(runtime, {"telegram": polling}).run_once()
    async with runtime.db.transaction() as db:
        row = await db.scalar(select(Outbox))
    assert row is not None and row.state is OutboxState.FAILED


async def test_bad_input_over_telegram(polling: TelegramChannel, tipster: Resident) -> None:
    api = tipster.api
    await tipster.send("/tip")
    await tipster.press("Trộm cắp")
    assert says(texts(await tipster.send("Xã nào cũng được", replies=2)), "use.buttons")
    assert says(texts(await tipster.press_data("forged:c.drugs", replies=2)), "bad.button")
    assert says(texts(await tipster.press_data("\u2603" * 20, replies=2)), "bad.button")
    assert says(texts(await tipster.push(api.sticker_update(tipster.user), 2)), "unsupported")
    edited = api.edited_text_update(tipster.user, "sửa", message_id=3)
    assert says(texts(await tipster.push(edited)), "edited")
    forwarded = await tipster.send("chuyển tiếp", replies=2, forward=True)
    assert says(texts(forwarded), "forwarded")
    assert says(texts(await tipster.send("/xyz", replies=2)), "unknown.command")
    assert says(texts(await tipster.send("kien giang")), "ask.place")  # the draft survived it all
    await tipster.send("Bỏ qua")  # the keyboard button that sits beside "share location"
    document = {"file_id": "BQACAgDocFileId", "file_unique_id": "d1", "mime_type": "image/jpeg"}
    warned = texts(await tipster.push(api.message_update(tipster.user, document=document), 2))
    assert says(warned, "media.original")
    assert says(warned, "got.piece", files=text_n("vi", "count.files", 1))


async def test_an_update_missing_its_fields_is_skipped_and_the_chat_goes_on(
    polling: TelegramChannel, tipster: Resident, production_logs: io.StringIO
) -> None:
    """An update Tipline cannot read is logged by number only, and the next one is answered."""
    broken = {"message": {"message_id": 1, "from": tipster.user, "text": "Nguyễn, no chat"}}
    update_id = tipster.api.push(broken)
    assert says(texts(await tipster.send("/start")), "start")
    logs = production_logs.getvalue()
    assert f"update={update_id} unreadable: KeyError" in logs and "Nguy" not in logs


def test_files_are_read_from_the_bot_api_json(runtime: Runtime) -> None:
    """Each kind of file becomes the attachment the handlers expect; files keep their EXIF."""
    api = FakeTelegramAPI()
    user = api.user(TIPSTER_ID)

    def attachment(**fields: Any) -> Media:
        update = {"update_id": 1, **api.message_update(user, **fields)}
        incoming = to_incoming(update, runtime, "tipline_test_bot")
        assert incoming is not None and incoming.kind is Kind.MEDIA
        return incoming.media[0]

    gif = {"file_id": "gif", "file_unique_id": "g"}
    as_file = {"file_id": "gif-doc", "file_unique_id": "g", "mime_type": "video/mp4"}
    assert attachment(animation=gif, document=as_file) == Media(MediaKind.VIDEO, "gif", True)
    voice = {"file_id": "voice", "file_unique_id": "v", "duration": 3}
    assert attachment(voice=voice) == Media(MediaKind.VOICE, "voice")
    pdf = {"file_id": "pdf", "file_unique_id": "p", "mime_type": "application/pdf"}
    assert attachment(document=pdf) == Media(MediaKind.DOCUMENT, "pdf")
    sizes = [
        {"file_id": f"p{n}", "file_unique_id": f"u{n}", "width": n, "height": n} for n in (90, 800)
    ]
    assert attachment(photo=sizes, caption="ảnh") == Media(MediaKind.PHOTO, "p800")


async def test_buttons_work_when_telegram_refuses_to_edit_an_old_message(
    polling: TelegramChannel, tipster: Resident
) -> None:
    api = tipster.api
    await tipster.send("/tip")
    api.fail_next("answerCallbackQuery", status=400, description="Bad Request: query is too old")
    api.fail_next(
        "editMessageReplyMarkup", status=400, description="Bad Request: message can't be edited"
    )
    assert says(texts(await tipster.press("Ma túy")), "ask.area")
    api.fail_next("editMessageText", status=400, description="Bad Request: message can't be edited")
    await tipster.press("Tiếp", replies=1)  # the page could not be redrawn: it is sent anew
    assert says(tipster.sent()[-1]["text"], "ask.area", page=2, pages=3)


async def test_group_chat_gets_one_pointer_and_nothing_is_stored(
    polling: TelegramChannel, api: FakeTelegramAPI, runtime: Runtime
) -> None:
    member = Resident(api, api.user(5550001, "Group Member"), chat_id=-100777)
    answer = texts(await member.send("/tip@tipline_test_bot", chat_type="group"))
    assert says(answer, "group.private", handle=" @tipline_test_bot")
    await member.send("buôn lậu ở bến sông", replies=0, chat_type="group")
    await member.send("/start@other_bot", replies=0, chat_type="group")
    await member.send("/help", chat_type="group")  # proves the two before were handled
    assert len(member.sent()) == 2
    async with runtime.db.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(Tip)) == 0


async def test_webhook_checks_the_secret_and_ignores_redelivery(
    runtime: Runtime, api: FakeTelegramAPI
) -> None:
    channel = telegram_channel(runtime, api, polling=False)
    await channel.start()
    secret = runtime.sealer.webhook_token()
    app = web.Application()
    channel.add_webhook(app, "/telegram", secret)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/telegram"
    resident = Resident(api, api.user(4242, "Webhook Person"))
    try:
        update = api.text_update(resident.user, "/start")
        update["update_id"] = 777
        assert await api.post_webhook(url, update) == 403
        assert await api.post_webhook(url, update, secret="wrong") == 403
        assert resident.sent() == []
        assert await api.post_webhook(url, update, secret=secret) == 200
        assert len(resident.sent()) == 1  # answered before the 200
        assert await api.post_webhook(url, update, secret=secret) == 200  # Telegram retries
        assert len(resident.sent()) == 1
    finally:
        await runner.cleanup()
        await channel.stop()


async def test_long_messages_are_split_not_cut(
    polling: TelegramChannel, api: FakeTelegramAPI
) -> None:
    body = "\n".join(f"{n:05d} " + "chữ " * 20 for n in range(200))
    await deliver(polling, "31337", Reply(body))
    pieces = api.sent_texts(31337)
    assert len(pieces) >= 2 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == body


async def test_anonymity_no_identity_in_database_files_or_logs(
    production_logs: io.StringIO,
    polling: TelegramChannel,
    tipster: Resident,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    for contact in (True, False):
        code, passphrase = await file_tip_with_photo(tipster, contact=contact)
        await tipster.send(f"/status {code}")
        await tipster.send(passphrase)
    async with runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        await change_status(db, runtime.context(), tip, status=TipStatus.VERIFYING)
    names, raw = database_bytes(tmp_path)
    assert "tipline.db-wal" in names, names  # the write-ahead log is searched too
    logs = production_logs.getvalue().encode()
    assert b"update=telegram:" in logs  # the logs were captured at all
    for needle in (str(TIPSTER_ID), TIPSTER_USERNAME, TIPSTER_FIRST, TIPSTER_LAST, TIPSTER_PHONE):
        for encoded in {needle.encode(), needle.encode("utf-16-le")}:
            assert encoded not in raw, f"{needle!r} found in the database files"
            assert encoded not in logs, f"{needle!r} found in the logs"
    assert b"84912345678" not in raw and b"912345678" not in raw


@pytest.fixture
async def slow_api() -> AsyncIterator[FakeTelegramAPI]:
    """A Bot API that takes half a second per call, like a bad mobile network."""
    async with FakeTelegramAPI(latency=0.5) as fake:
        yield fake


async def test_over_telegram_chats_overlap_and_each_chat_keeps_its_order(
    runtime: Runtime, slow_api: FakeTelegramAPI
) -> None:
    api = slow_api
    channel = telegram_channel(runtime, api, polling=True)
    await channel.start()
    try:
        people = [api.user(9000 + n, f"Person {n}") for n in range(6)]
        for person in people:
            for line in ("/help", "/lang", "/start"):
                api.push(api.text_update(person, line))
        for person in people:
            await api.wait_calls("sendMessage", count=3, chat_id=person["id"], timeout=30)
    finally:
        await channel.stop()
    for person in people:
        texts = api.sent_texts(person["id"])
        assert says(texts[0], "help") and says(texts[1], "lang.ask") and says(texts[2], "start")
    arrivals = sorted(c.at for c in api.calls_to("sendMessage"))
    # Sequential processing would space the sends by the 0.5 s latency; lanes overlap them.
    assert min(b - a for a, b in itertools.pairwise(arrivals)) < 0.25
