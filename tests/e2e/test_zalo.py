"""Tipline on Zalo: the same handlers through a fake Zalo Bot Platform (a real local server)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.channels.base import deliver
from bot.channels.numbered import OfferedOptions
from bot.channels.zalo import ZaloBotAPI, ZaloChannel, ZaloError
from bot.outbox import OutboxSender
from bot.runtime import Runtime
from bot.scheduler import run_digests
from handlers.common.types import Option, Reply
from handlers.patrols.admin import create_group
from storage.db import Database
from storage.models import Outbox, OutboxState, Shift, Tip
from tests.conftest import FakeClock, Person
from tests.e2e.conftest import database_bytes, free_port, quick_answers
from tests.fake_zalo import TOKEN, FakeZaloBotAPI
from tests.messages import says
from tests.test_officers import invite

TIPSTER = "5566778899001122"  # a Zalo user id: it must never be stored or logged


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBotAPI]:
    """The fake Zalo Bot Platform."""
    async with FakeZaloBotAPI() as fake:
        yield fake


@pytest.fixture
async def channel(runtime: Runtime, zalo: FakeZaloBotAPI) -> AsyncIterator[ZaloChannel]:
    """The real Zalo channel, long polling the fake."""
    polling = ZaloChannel(runtime, TOKEN, zalo.root, answers=quick_answers(runtime), polling=True)
    await polling.start()
    yield polling
    await polling.stop()


class ZaloUser:
    """Someone typing to the bot in Zalo, seen from the platform's side."""

    def __init__(self, api: FakeZaloBotAPI, user_id: str) -> None:
        self.api = api
        self.user_id = user_id

    async def send(self, typed: str, replies: int = 1) -> str:
        """Type a message; wait for `replies` messages back; returns their text."""
        before = len(self.api.sent_texts(self.user_id))
        self.api.push(self.api.text_update(self.user_id, typed))
        texts = await self.api.wait_texts(self.user_id, before + replies)
        return "\n".join(texts[before:])

    async def pick(self, label: str, replies: int = 1) -> str:
        """Answer with the number the last message gave the option containing `label`."""
        return await self.send(self.number_of(label), replies)

    def number_of(self, label: str) -> str:
        last = self.api.sent_texts(self.user_id)[-1]
        found = re.findall(rf"^(\d+)\. [^\n]*{re.escape(label)}", last, re.MULTILINE)
        assert found, f"no option {label!r} in {last!r}"
        return str(found[0])


async def file_tip(tipster: ZaloUser, *, contact: bool) -> str:
    """A tip typed on Zalo, with numbers and with words; returns its code."""
    menu = await tipster.send("/tip")
    # the wording itself is the point: Zalo lists the options as numbered "1. " lines
    assert "1. " in menu and says(menu, "zalo.choose")  # numbered, and told how to answer
    await tipster.send("ma tuy")  # words without accents pick "Ma túy"
    await tipster.pick("Kiến Giang")
    await tipster.send("bo qua")  # the place is optional: skipped in words
    await tipster.send("Có người bán ma túy ở cuối ngõ, tối nào cũng thấy")
    await tipster.pick("Hôm nay")
    await tipster.pick("Không")
    receipt = await tipster.pick("cho phép" if contact else "không cho liên hệ")
    codes: list[str] = re.findall(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", receipt)
    return codes[0]


async def test_a_whole_anonymous_tip_by_numbers_and_words(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel, tmp_path: Path
) -> None:
    tipster = ZaloUser(zalo, TIPSTER)
    code = await file_tip(tipster, contact=False)
    async with runtime.db.transaction() as db:
        (tip,) = await db.scalars(select(Tip))
    assert tip.category == "drugs" and tip.area == "kien-giang"
    assert tip.code == code.replace("-", "")
    _, raw = database_bytes(tmp_path)
    assert TIPSTER.encode() not in raw and "Người dùng".encode() not in raw


async def test_a_patrol_member_checks_in_by_typing_the_place(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel
) -> None:
    async with runtime.db.transaction() as db:
        made = await create_group(
            db, runtime.context(), name="Tổ thôn 5", area="an-thuy", officer=None
        )
    assert made is not None
    member = ZaloUser(zalo, "7001")
    assert says(await member.send(f"/join {made[1]}"), "join.ask_name", group="Tổ thôn 5")
    await member.send("Lan")
    ask = await member.send("/checkin")
    assert says(ask, "checkin.ask")
    started = await member.send("Cầu Kiến Giang", replies=2)
    assert says(started, "checkin.done")
    async with runtime.db.transaction() as db:
        (shift,) = await db.scalars(select(Shift))
    assert shift.ended_at is None


async def test_an_officer_question_reaches_a_zalo_tipster_who_answers(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel, clock: FakeClock
) -> None:
    tipster = ZaloUser(zalo, TIPSTER)
    code = await file_tip(tipster, contact=True)
    officer = Person(runtime, user="officer-an", chat="chat-an")
    await officer.send(f"/officer {await invite(runtime, 'An', None)}")
    await officer.send(f"/tip {code}")
    await officer.press("Hỏi người báo")
    await officer.send("Người bán đi xe máy màu gì?")
    outbox = OutboxSender(
        runtime, {"zalo": channel, "console": channel}, pacers=clock.pacers("zalo", "console")
    )
    await outbox.run_once()
    question = zalo.sent_texts(TIPSTER)[-1]
    assert says(question, "question.to_tipster", code=code)
    assert "Người bán đi xe máy màu gì?" in question
    assert "1. " in question  # the wording itself is the point: the answer button, numbered
    await tipster.pick("Trả lời")
    assert says(await tipster.send("Xe Wave màu đỏ"), "answer.sent")
    async with runtime.db.transaction() as db:
        rows = list(await db.scalars(select(Outbox).order_by(Outbox.id)))
    answer = rows[-1].payload["text"]
    assert says(answer, "answer.to_officer", code=code) and "Xe Wave màu đỏ" in answer
    assert rows[-1].officer_id is not None


async def test_the_webhook_wants_its_secret_and_takes_bare_and_wrapped_updates(
    runtime: Runtime, zalo: FakeZaloBotAPI
) -> None:
    hooked = ZaloChannel(runtime, TOKEN, zalo.root, answers=quick_answers(runtime), polling=False)
    await hooked.start()
    app = web.Application()
    hooked.add_webhook(app, "/zalo", "s3cret-s3cret")
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/zalo"
    try:
        update = zalo.text_update("9001", "/start")
        assert await zalo.post_webhook(url, update, None) == 403
        assert await zalo.post_webhook(url, update, "wrong-secret") == 403
        assert zalo.sent_texts("9001") == []
        assert await zalo.post_webhook(url, update, "s3cret-s3cret") == 200  # wrapped
        bare = zalo.text_update("9002", "/start")["result"]
        assert await zalo.post_webhook(url, bare, "s3cret-s3cret") == 200
        assert await zalo.post_webhook(url, {"nonsense": 1}, "s3cret-s3cret") == 400
        assert says(zalo.sent_texts("9001")[0], "start")
        assert says(zalo.sent_texts("9002")[0], "start")
    finally:
        await runner.cleanup()
        await hooked.stop()


async def test_a_repeated_message_id_is_handled_once(
    zalo: FakeZaloBotAPI, channel: ZaloChannel
) -> None:
    first = zalo.text_update("9100", "/start", message_id="abc123")
    zalo.push(first)
    zalo.push(dict(first))  # the platform delivered it again
    zalo.push(zalo.text_update("9100", "/help")["result"])  # a bare one after it
    await zalo.wait_texts("9100", 2)
    await asyncio.sleep(0.3)
    texts = zalo.sent_texts("9100")
    assert len(texts) == 2 and says(texts[0], "start") and says(texts[1], "help")


async def test_ok_false_with_http_200_is_an_error_and_retried(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel, clock: FakeClock
) -> None:
    api = ZaloBotAPI(TOKEN, zalo.root)
    zalo.fail_next("getMe", error_code=401)
    with pytest.raises(ZaloError, match="401"):
        await api.call("getMe")
    await api.close()
    officer = ZaloUser(zalo, "9200")
    await officer.send(f"/officer {await invite(runtime, 'Bình', 'an-thuy')}")
    clock.now = clock.now.replace(hour=0, minute=0) + timedelta(days=1)  # 07:00 the next day
    assert await run_digests(runtime) == 1
    zalo.fail_next("sendMessage", error_code=500)
    outbox = OutboxSender(runtime, {"zalo": channel}, pacers=clock.pacers("zalo"))
    await outbox.run_once()
    async with runtime.db.transaction() as db:
        (row,) = await db.scalars(select(Outbox))
    assert row.state is OutboxState.PENDING and row.last_error == "zalo 500"
    clock.advance(minutes=1)
    await outbox.run_once()
    digest = zalo.sent_texts("9200")[-1]
    assert says(digest, "digest.head.daily")
    assert [c.method for c in zalo.calls].count("sendPhoto") == 0  # no chart on Zalo: text only


async def test_long_texts_are_split_at_2000_characters_on_line_breaks(
    zalo: FakeZaloBotAPI, channel: ZaloChannel
) -> None:
    body = "\n".join(f"{n:04d} " + "chữ " * 30 for n in range(120))
    await deliver(channel, "9300", Reply(body))
    pieces = zalo.sent_texts("9300")
    assert len(pieces) >= 2 and all(len(piece) <= 2000 for piece in pieces)
    assert "\n".join(pieces) == body


def test_choices_match_numbers_and_words_without_accents() -> None:
    offered = OfferedOptions()
    options = (
        Option("Ma túy", "t:1:c.drugs"),
        Option("Trộm cắp", "t:1:c.theft"),
        Option("📝 Gửi tin báo", "m:tip"),
        Option("Gây rối trật tự", "t:1:c.disorder"),
        Option("Gây thương tích", "t:1:c.injury"),
    )
    offered.offer("c", options)
    assert offered.pick("c", "ma tuy") is options[0]
    assert offered.pick("c", "MA TÚY") is options[0]
    assert offered.pick("c", " 2 ") is options[1]
    assert offered.pick("c", "gui tin bao") is options[2]  # the emoji is decoration
    assert offered.pick("c", "trom") is options[1]  # a unique beginning
    assert offered.pick("c", "gay") is None  # two options begin so: ask again
    assert offered.pick("c", "9") is None and offered.pick("c", "0") is None
    assert offered.pick("other-chat", "1") is None
    offered.offer("c", ())
    assert offered.pick("c", "1") is None


async def test_zalo_ids_stay_out_of_the_logs(
    zalo: FakeZaloBotAPI, channel: ZaloChannel, production_logs: io.StringIO
) -> None:
    tipster = ZaloUser(zalo, TIPSTER)
    await file_tip(tipster, contact=True)
    logged = production_logs.getvalue()
    assert "update=zalo:" in logged
    assert TIPSTER not in logged and "Người dùng" not in logged


async def test_a_zalo_user_and_a_telegram_user_are_different_people(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel
) -> None:
    update = zalo.text_update("31337", "/start")["result"]
    incoming = channel.to_incoming(update)
    assert incoming is not None
    assert incoming.sender != runtime.sealer.pseudonym("telegram", "31337")
    assert incoming.sender == runtime.sealer.pseudonym("zalo", "31337")


async def test_a_photo_arrives_as_a_url_and_reaches_an_officer_on_zalo(
    runtime: Runtime, zalo: FakeZaloBotAPI, channel: ZaloChannel
) -> None:
    tipster = ZaloUser(zalo, TIPSTER)
    await tipster.send("/tip")
    await tipster.send("ma tuy")
    await tipster.pick("Kiến Giang")
    await tipster.send("bo qua")
    await tipster.send("Có người lạ giấu hàng sau chợ")
    before = len(zalo.sent_texts(TIPSTER))
    zalo.push(zalo.image_update(TIPSTER, "https://photo.zalo.example/hang.jpg", caption="ảnh"))
    await zalo.wait_texts(TIPSTER, before + 1)
    await tipster.pick("Hôm nay")
    review = await tipster.pick("Không")
    assert says(review, "review", files=1)
    receipt = await tipster.pick("không cho liên hệ")
    code = re.findall(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", receipt)[0]
    async with runtime.db.transaction() as db:
        (tip,) = await db.scalars(select(Tip))
        refs = [attachment.ref for attachment in await tip.awaitable_attrs.attachments]
    assert refs == ["https://photo.zalo.example/hang.jpg"]
    officer = ZaloUser(zalo, "9400")
    await officer.send(f"/officer {await invite(runtime, 'Cường', None)}")
    await officer.send(f"/tip {code}")

    def photos() -> list[str]:
        return [c.params["photo"] for c in zalo.calls if c.method == "sendPhoto" and c.ok]

    await zalo.wait_for(lambda: bool(photos()))
    assert photos() == ["https://photo.zalo.example/hang.jpg"]


@dataclass(frozen=True)
class TwoAlive:
    """The presence of two processes, as a process sees it: each delivers its own answers."""

    name: str
    alone: bool = False
    leads: bool = False

    @property
    def alive(self) -> frozenset[str]:
        """Both processes."""
        return frozenset({"a", "b"})

    def owner_of(self, chat_key: str) -> str:
        """This process, for every chat."""
        return self.name


async def test_a_number_typed_to_another_process_means_the_choice_the_first_offered(
    runtime: Runtime, zalo: FakeZaloBotAPI
) -> None:
    first = replace(runtime, peers=TwoAlive("a"))
    second = replace(runtime, db=Database(runtime.db.url), peers=TwoAlive("b"))
    hooks = []
    for each in (first, second):
        answers = quick_answers(each)
        answers.peers = each.peers
        hooked = ZaloChannel(each, TOKEN, zalo.root, answers=answers, polling=False)
        await hooked.start()
        hooks.append(hooked)
    resident = ZaloUser(zalo, "9300")
    try:
        await hooks[0].process(zalo.text_update(resident.user_id, "/start"))
        await zalo.wait_texts(resident.user_id, 1)
        number = resident.number_of("Gửi tin báo")
        await hooks[1].process(zalo.text_update(resident.user_id, number))
        texts = await zalo.wait_texts(resident.user_id, 2)
        assert says(texts[1], "ask.category"), texts[1]  # the tip began: "1" was the first item
        # The category question, offered by the second process, answered at the first.
        category = resident.number_of("Trộm cắp")
        await hooks[0].process(zalo.text_update(resident.user_id, category))
        texts = await zalo.wait_texts(resident.user_id, 3)
        assert says(texts[2], "ask.area"), texts[2]
    finally:
        for hooked in hooks:
            await hooked.stop()
        await second.db.dispose()
