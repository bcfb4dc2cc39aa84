"""The officers' web desk over real HTTP: sign-in by a one-time link, sessions, the queue, a
tip's page and its actions, and the guards around them (scope, form tokens, headers, escaping)."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.desk.app import mount_desk
from bot.desk.web import COOKIE
from bot.runtime import Runtime
from handlers.conversation.buttons import AnswerQuestion
from storage.models import (
    AuditLog,
    Officer,
    Outbox,
    OutboxState,
    ThreadMessage,
    Tip,
    TipEvent,
    TipStatus,
)
from storage.officers import set_officer
from tests.conftest import FakeClock, Person, file_tip
from tests.messages import filled, says
from tests.test_officers import officer, tip_id


def page_says(body: str, key: str, /, **values: Any) -> bool:
    """Whether a page shows the catalogue message `key`, as a person reads it (tags dropped)."""
    return says(html.unescape(re.sub(r"<[^>]+>", "", body)), key, **values)


class Browser:
    """One browser: its own cookies, talking to the desk over HTTP."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.session = ClientSession(cookie_jar=CookieJar(unsafe=True))
        self.body = ""
        self.status = 0
        self.headers: dict[str, str] = {}

    async def get(self, path: str) -> str:
        """Open a page (following redirects)."""
        async with self.session.get(self.server.make_url(path)) as response:
            return await self._read(response)

    async def post(self, path: str, fields: dict[str, str], *, follow: bool = True) -> str:
        """Post a form."""
        url = self.server.make_url(path)
        async with self.session.post(url, data=fields, allow_redirects=follow) as response:
            return await self._read(response)

    async def _read(self, response: Any) -> str:
        self.status, self.body = response.status, await response.text()
        self.headers = dict(response.headers)
        return self.body

    def form_token(self) -> str:
        """The form token the last page carries."""
        found = re.search(r'name="form_token" value="([0-9a-f]+)"', self.body)
        assert found, "the page has no form token"
        return found.group(1)

    async def act(self, tip: int, **fields: str) -> str:
        """Post an action on a tip's page with this page's form token."""
        return await self.post(f"/desk/tip/{tip}", {"form_token": self.form_token(), **fields})

    async def close(self) -> None:
        """Close the browser."""
        await self.session.close()


@contextlib.asynccontextmanager
async def desk_server(runtime: Runtime, *, tiles_url: str = "") -> AsyncIterator[TestServer]:
    """The desk on a real local server (no HTTPS: a computer of its own)."""
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    mount_desk(app, runtime, public_url="http://127.0.0.1", tiles_url=tiles_url)
    await server.start_server()
    runtime.desk_url = str(server.make_url("")).rstrip("/")
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def desk(runtime: Runtime) -> AsyncIterator[TestServer]:
    """The desk on a real local server."""
    async with desk_server(runtime) as server:
        yield server


@pytest.fixture
async def browser(desk: TestServer) -> AsyncIterator[Browser]:
    """A browser with no cookies yet."""
    opened = Browser(desk)
    yield opened
    await opened.close()


async def link_for(person: Person) -> str:
    """The path of the one-time link an officer gets with /desk."""
    await person.send("/desk")
    assert person.shows("desk.link")
    link = filled(person.said(), "desk.link")["link"]
    return "/desk/" + link.split("/desk/", 1)[1]


async def signed_in(browser: Browser, person: Person) -> None:
    """Sign this browser in as the officer, by the link from the bot and its button."""
    link = await link_for(person)
    page = await browser.get(link)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page)
    assert token is not None
    await browser.post("/desk/in", {"token": token.group(1)})
    assert browser.status == 200 and page_says(browser.body, "desk.queue.count")


async def test_a_link_from_the_bot_signs_in_once(
    runtime: Runtime, browser: Browser, desk: TestServer, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy", story="Xe máy bị trộm ở chợ")
    an = await officer(runtime, "An", "an-thuy")
    link = await link_for(an)
    # Opening the link (or a chat app's preview of it) spends nothing: only the button does.
    await browser.get(link)
    await browser.get(link)
    token = link.rsplit("/", 1)[1]
    await browser.post("/desk/in", {"token": token})
    assert browser.status == 200 and code in browser.body
    cookie = next(c for c in browser.session.cookie_jar if c.key == COOKIE)
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/desk"
    # The same link in another browser: refused, and that browser sees no tip.
    thief = Browser(desk)
    await thief.post("/desk/in", {"token": token})
    assert thief.status == 400 and page_says(thief.body, "desk.link_refused")
    await thief.get("/desk/")
    assert thief.status == 401 and code not in thief.body
    # A link older than ten minutes: refused.
    late = await link_for(an)
    clock.advance(minutes=11)
    await thief.post("/desk/in", {"token": late.rsplit("/", 1)[1]})
    assert thief.status == 400
    await thief.close()
    async with runtime.db.transaction() as db:
        actions = [a.action for a in await db.scalars(select(AuditLog))]
    assert actions.count("desk_link") == 2 and actions.count("desk_sign_in") == 1


async def test_a_session_ends_when_idle_on_sign_out_and_when_the_officer_is_revoked(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    an = await officer(runtime, "An", "an-thuy")
    await signed_in(browser, an)
    clock.advance(minutes=29)
    await browser.get("/desk/")
    assert browser.status == 200
    clock.advance(minutes=31)  # idle for longer than half an hour
    await browser.get("/desk/")
    assert browser.status == 401 and page_says(browser.body, "desk.signed_out")
    await signed_in(browser, an)
    await browser.post("/desk/out", {"form_token": browser.form_token()})
    assert page_says(browser.body, "desk.signed_off")
    await browser.get("/desk/")
    assert browser.status == 401
    await signed_in(browser, an)
    async with runtime.db.transaction() as db:
        found = await db.scalar(select(Officer).where(Officer.name == "An"))
        assert found is not None
        await set_officer(db, found, revoked_at=clock.now)
    await browser.get("/desk/")
    assert browser.status == 401


async def test_an_officer_never_reaches_a_tip_outside_the_scope(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    mine, _ = await file_tip(resident, area="an thuy", story="Ở An Thủy")
    theirs, _ = await file_tip(resident, area="cam thuy", story="Chuyện ở Cam Thủy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    assert mine in browser.body and theirs not in browser.body
    other = await tip_id(runtime, theirs)
    await browser.get(f"/desk/tip/{other}")
    missing = browser.body
    assert browser.status == 404 and "Cam Thủy" not in missing
    await browser.get("/desk/tip/999999")
    assert browser.status == 404 and browser.body == missing  # the same as no tip at all
    await browser.get(f"/desk/tip/{await tip_id(runtime, mine)}")
    await browser.act(other, action="internal_note", note="lạc phạm vi")
    assert browser.status == 404
    async with runtime.db.transaction() as db:
        events = list(await db.scalars(select(TipEvent.id).where(TipEvent.tip_id == other)))
    assert len(events) == 1  # filed, nothing since


async def test_a_form_without_its_token_changes_nothing(runtime: Runtime, browser: Browser) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    tip = await tip_id(runtime, code)
    for token in ({}, {"form_token": "0" * 40}):
        fields = {**token, "action": "status", "status": "handled"}
        await browser.post(f"/desk/tip/{tip}", fields)
        assert browser.status == 403 and page_says(browser.body, "desk.stale_form")
    async with runtime.db.transaction() as db:
        assert await db.scalar(select(Tip.status).where(Tip.id == tip)) is TipStatus.RECEIVED


async def test_hostile_tip_text_is_shown_as_text(runtime: Runtime, browser: Browser) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    story = (
        '<script>alert("x")</script> <img src=x onerror=alert(1)> '
        '<a href="javascript:alert(2)">bấm</a> \u202egnp.exe'
    )
    code, _ = await file_tip(resident, area="an thuy", story=story, place='"><b>chợ</b>')
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    for page in (browser.body, await browser.get(f"/desk/tip/{await tip_id(runtime, code)}")):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page and "<b>chợ</b>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # The right-to-left override that would show "exe.png" was taken out as the tip came in.
    assert "\u202e" not in browser.body and "gnp.exe" in browser.body


async def test_every_response_carries_the_security_headers(
    runtime: Runtime, browser: Browser
) -> None:
    await browser.get("/desk/")  # signed out
    signed_out = dict(browser.headers)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    await browser.get("/desk/static/desk.js")
    for headers in (signed_out, browser.headers):
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"


async def test_guessing_links_is_stopped_after_ten_tries_a_minute(
    runtime: Runtime, browser: Browser
) -> None:
    statuses = []
    for _ in range(12):
        await browser.post("/desk/in", {"token": "ab" * 32})
        statuses.append(browser.status)
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    assert page_says(browser.body, "desk.too_many")


async def test_a_status_the_tipster_hears_of_asks_first_and_can_be_undone(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy", contact=True)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    tip = await tip_id(runtime, code)
    await browser.get(f"/desk/tip/{tip}")
    await browser.act(tip, action="status", status="handled")
    assert page_says(browser.body, "desk.confirm_status", code=code)
    assert await _status(runtime, tip) is TipStatus.RECEIVED  # nothing yet
    await browser.post(
        f"/desk/tip/{tip}",
        {
            "form_token": browser.form_token(),
            "action": "status",
            "status": "handled",
            "confirmed": "1",
        },
    )
    assert page_says(browser.body, "status.changed", code=code)
    assert 'id="undo"' in browser.body
    assert await _status(runtime, tip) is TipStatus.HANDLED
    notices = await _to_tipster(runtime, tip)
    assert [n.state for n in notices] == [OutboxState.PENDING]
    assert notices[0].next_attempt_at == clock.now + timedelta(seconds=30)  # held for the undo
    clock.advance(seconds=20)
    await browser.act(tip, action="undo")
    assert page_says(browser.body, "desk.undone", code=code)
    assert await _status(runtime, tip) is TipStatus.RECEIVED
    assert [n.state for n in await _to_tipster(runtime, tip)] == [OutboxState.DROPPED]
    # Once the half minute is over, the change stays and its notice goes.
    await browser.act(tip, action="status", status="verifying", confirmed="1")
    clock.advance(seconds=31)
    await browser.get(f"/desk/tip/{tip}")
    assert 'id="undo"' not in browser.body
    await browser.act(tip, action="undo")
    assert page_says(browser.body, "desk.undo_late", code=code)
    assert await _status(runtime, tip) is TipStatus.VERIFYING
    assert [n.state for n in await _to_tipster(runtime, tip)][-1] is OutboxState.PENDING


async def _status(runtime: Runtime, tip: int) -> TipStatus | None:
    async with runtime.db.transaction() as db:
        found: TipStatus | None = await db.scalar(select(Tip.status).where(Tip.id == tip))
    return found


async def _to_tipster(runtime: Runtime, tip: int) -> list[Outbox]:
    async with runtime.db.transaction() as db:
        rows = await db.scalars(
            select(Outbox).where(Outbox.tip_id == tip, Outbox.officer_id.is_(None))
        )
        return list(rows)


async def test_the_tip_page_does_what_the_chat_does_and_moves_on(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    first, _ = await file_tip(resident, area="an thuy", story="Trộm xe lần một")
    second, _ = await file_tip(resident, area="an thuy", story="Trộm xe lần hai")
    await officer(runtime, "Binh", "an-thuy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    tip = await tip_id(runtime, second)
    await browser.get(f"/desk/tip/{tip}")
    await browser.act(tip, action="internal_note", note="Đã gọi trưởng thôn")
    assert page_says(browser.body, "internal_note.added", code=second)
    assert "Đã gọi trưởng thôn" in browser.body
    await browser.act(tip, action="ask", question="Xe màu gì?")
    assert page_says(browser.body, "question.waiting", code=second)  # no contact: it waits
    assert "Xe màu gì?" in browser.body
    binh = re.search(r'<option value="(\d+)">Binh</option>', browser.body)
    assert binh is not None
    await browser.act(tip, action="assign", officer=binh.group(1))
    assert page_says(browser.body, "assign.done", code=second, name="Binh")
    await browser.act(tip, action="status", status="closed_spam")
    assert page_says(browser.body, "desk.need_reason", code=second)
    await browser.act(tip, action="duplicate", original=first)
    assert page_says(browser.body, "duplicate.done", code=second, original=first)
    assert await _status(runtime, tip) is TipStatus.CLOSED_DUPLICATE
    # Next tip: the first one, still open.
    await browser.get(f"/desk/tip/{tip}/next?stood=2")
    assert first in browser.body and "Trộm xe lần một" in browser.body
    await browser.get(f"/desk/tip/{await tip_id(runtime, first)}/next?stood=2")
    assert page_says(browser.body, "desk.queue_end", code=first)


async def test_a_crafted_notice_in_the_address_is_not_shown(
    runtime: Runtime, browser: Browser
) -> None:
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    await browser.get("/desk/?said=WyJkZXNrLnVuZG9uZSIsIHt9XQ.0000")
    assert browser.status == 200 and 'class="notice"' not in browser.body


async def test_no_tipster_identity_reaches_a_desk_page_or_the_log(
    runtime: Runtime, browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    resident = Person(runtime, user="tipster-7f3a9c51", chat="chat-7f3a9c51")
    code, _ = await file_tip(resident, area="an thuy", contact=True)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    tip = await tip_id(runtime, code)
    pages = [browser.body, await browser.get(f"/desk/tip/{tip}")]
    await browser.act(tip, action="ask", question="Ở đâu?", confirmed="1")
    pages.append(browser.body)
    pseudonym = runtime.sealer.pseudonym("console", "tipster-7f3a9c51")
    for page in [*pages, caplog.text]:
        for secret in ("7f3a9c51", pseudonym):
            assert secret not in page


async def test_desk_command_says_when_no_desk_is_served(runtime: Runtime) -> None:
    an = await officer(runtime, "An", "an-thuy")
    await an.send("/desk")
    assert an.shows("desk.not_served")
    resident = Person(runtime, user="r1", chat="r1")
    await resident.send("/desk")
    assert not resident.shows("desk.link") and not resident.shows("desk.not_served")


async def test_ticked_tips_close_together_after_one_question_and_come_back_with_undo(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    quiet, _ = await file_tip(resident, area="an thuy", story="Quảng cáo vay tiền")
    heard, _ = await file_tip(resident, area="an thuy", story="Quảng cáo cá độ", contact=True)
    kept, _ = await file_tip(resident, area="an thuy", story="Trộm gà thật")
    elsewhere, _ = await file_tip(resident, area="cam thuy", story="Ở Cam Thủy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    ids = [await tip_id(runtime, code) for code in (quiet, heard, elsewhere)]
    ticked = {"form_token": browser.form_token(), "bulk": "closed_spam", "back": "which=open"}
    form = [*ticked.items(), *(("tip", str(i)) for i in ids)]
    await _post_many(browser, form)
    assert page_says(browser.body, "desk.bulk.need_reason")
    form.append(("note", "Quảng cáo"))
    await _post_many(browser, form)
    assert page_says(browser.body, "desk.bulk.confirm", count="2", told="1")  # not Cam Thủy's
    assert [await _status(runtime, i) for i in ids] == [TipStatus.RECEIVED] * 3
    await _post_many(browser, [*form, ("confirmed", "1")])
    assert page_says(browser.body, "desk.bulk.closed", count="2")
    assert kept in browser.body and quiet not in browser.body  # the open list, as before
    statuses = [await _status(runtime, i) for i in ids]
    assert statuses == [TipStatus.CLOSED_SPAM, TipStatus.CLOSED_SPAM, TipStatus.RECEIVED]
    clock.advance(seconds=10)
    await browser.post(
        "/desk/bulk",
        {"form_token": browser.form_token(), "bulk": "undo", "tip": str(ids[1])},
    )
    assert page_says(browser.body, "desk.bulk.undone", count="1")
    assert await _status(runtime, ids[1]) is TipStatus.RECEIVED
    assert [n.state for n in await _to_tipster(runtime, ids[1])] == [OutboxState.DROPPED]
    await browser.post("/desk/bulk", {"form_token": browser.form_token(), "bulk": "undo"})
    assert page_says(browser.body, "desk.bulk.none")


async def test_ticked_tips_go_to_one_officer_or_one_original(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    first, _ = await file_tip(resident, area="an thuy", story="Lần đầu")
    again, _ = await file_tip(resident, area="an thuy", story="Lần nữa")
    more, _ = await file_tip(resident, area="an thuy", story="Lần nữa nữa")
    await officer(runtime, "Binh", "an-thuy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    binh = re.search(r'<option value="(\d+)">Binh</option>', browser.body)
    assert binh is not None
    copies = [("tip", str(await tip_id(runtime, code))) for code in (again, more)]
    token = ("form_token", browser.form_token())
    await _post_many(browser, [token, ("bulk", "assign"), ("officer", binh.group(1)), *copies])
    assert page_says(browser.body, "desk.bulk.assigned", count="2", name="Binh", refused="0")
    token = ("form_token", browser.form_token())
    await _post_many(browser, [token, ("bulk", "duplicate"), ("original", first), *copies])
    assert page_says(browser.body, "desk.bulk.duplicates", count="2", original=first)
    for code in (again, more):
        assert await _status(runtime, await tip_id(runtime, code)) is TipStatus.CLOSED_DUPLICATE


async def _post_many(browser: Browser, fields: list[tuple[str, str]]) -> str:
    """Post a form whose fields repeat (ticked tips)."""
    url = browser.server.make_url("/desk/bulk")
    async with browser.session.post(url, data=fields) as response:
        return await browser._read(response)


async def test_a_tip_page_suggests_tips_that_may_tell_the_same_event(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    first, _ = await file_tip(resident, area="an thuy", story="Có người bán ma túy ở cuối ngõ chợ")
    clock.advance(days=1)
    other_kind, _ = await file_tip(resident, area="cam thuy", story="Bán ma túy ở cuối ngõ chợ")
    same, _ = await file_tip(resident, area="an thuy", story="Thấy bán ma túy cuối ngõ chợ")
    clock.advance(days=5)
    late, _ = await file_tip(resident, area="an thuy", story="Bán ma túy ở cuối ngõ chợ nữa")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    await browser.get(f"/desk/tip/{await tip_id(runtime, same)}")
    likely = browser.body.split('id="likely"', 1)[1].split("</ol>", 1)[0]
    assert first in likely  # the same commune and kind, a day apart, the same words
    assert other_kind not in likely and late not in likely  # out of scope; five days on
    assert page_says(likely, "desk.likely.same_kind")
    # One click: the later tip is closed as the earlier one's duplicate.
    here = await tip_id(runtime, same)
    assert f'action="/desk/tip/{here}"' in likely and f'value="{first}"' in likely
    await browser.act(here, action="duplicate", original=first)
    assert page_says(browser.body, "duplicate.done", code=same, original=first)
    assert 'id="likely"' not in browser.body  # a duplicate suggests nothing more


async def test_the_list_narrows_by_its_filters_and_words_kept_in_the_address(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1", channel="console")
    theft, _ = await file_tip(resident, area="an thuy", story="Trộm xe máy ở chợ Đồng")
    urgent, _ = await file_tip(resident, area="an thuy", story="Đánh nhau", urgent=True)
    asked, _ = await file_tip(resident, area="cam thuy", story="Ma túy ở bến", contact=True)
    await signed_in(browser, await officer(runtime, "Huyện", None))
    await browser.get("/desk/?q=trom+xe+cho+dong")  # no accents typed
    assert theft in browser.body and urgent not in browser.body
    assert 'value="trom xe cho dong"' in browser.body  # the box keeps what was typed
    await browser.get("/desk/?urgent=1")
    assert urgent in browser.body and theft not in browser.body
    await browser.get("/desk/?unit=cam-thuy")
    assert asked in browser.body and theft not in browser.body
    assert '<option value="cam-thuy" selected>' in browser.body
    # A question answered: the list marks the unread answer, and filters by it.
    tip = await tip_id(runtime, asked)
    await browser.get(f"/desk/tip/{tip}")
    await browser.act(tip, action="ask", question="Bến nào?", confirmed="1")
    async with runtime.db.transaction() as db:
        question = await db.scalar(select(ThreadMessage.id).where(ThreadMessage.tip_id == tip))
    assert question is not None
    await resident.choose(AnswerQuestion(question).pack())
    await resident.send("Bến đò Cam Thủy")
    await browser.get("/desk/?unread=1")
    assert asked in browser.body and theft not in browser.body
    assert page_says(browser.body, "desk.mark.unread", count="1")
    await browser.get(f"/desk/tip/{tip}")  # read now
    await browser.get("/desk/?unread=1")
    assert asked not in browser.body
    # Closed ones show when asked for; what makes no sense is left out, not an error.
    await browser.act(await tip_id(runtime, theft), action="status", status="closed_spam",
                      note="thử")  # fmt: skip
    await browser.get("/desk/?status=closed")
    assert theft in browser.body and urgent not in browser.body
    await browser.get("/desk/?status=bogus&unit=nowhere&days=13&category=x&page=-1")
    assert browser.status == 200 and urgent in browser.body and theft not in browser.body
    # Paging keeps the filters in the address.
    for n in range(26):  # from many people: one may send five an hour
        await file_tip(Person(runtime, user=f"p{n}", chat=f"p{n}"), area="an thuy",
                       story=f"Trộm gà lần {n}")  # fmt: skip
    await browser.get("/desk/?q=trom+ga")
    assert 'href="?q=trom+ga&amp;page=2"' in browser.body


async def test_a_search_finds_nothing_outside_the_scope(runtime: Runtime, browser: Browser) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="cam thuy", story="Trộm xe ở Cam Thủy")
    kept, _ = await file_tip(resident, area="an thuy", story="Trộm xe ở An Thủy", top_only=True)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    await browser.get("/desk/?q=trom+xe&status=all")
    assert page_says(browser.body, "desk.queue.empty") and kept not in browser.body


async def test_the_same_kind_of_tip_alone_is_not_suggested(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    fight, _ = await file_tip(resident, area="an thuy", story="Đánh nhau trước quán karaoke")
    race, _ = await file_tip(resident, area="an thuy", story="Thanh niên đua xe đêm khuya")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    await browser.get(f"/desk/tip/{await tip_id(runtime, race)}")
    assert 'id="likely"' not in browser.body and fight not in browser.body


async def test_a_public_note_or_a_question_can_be_taken_back_before_the_tipster_hears(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, passphrase = await file_tip(resident, area="an thuy", contact=True)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    tip = await tip_id(runtime, code)
    await browser.get(f"/desk/tip/{tip}")
    await browser.act(tip, action="public_note", note="Đã cử người tới", confirmed="1")
    assert 'id="undo"' in browser.body and "Đã cử người tới" in browser.body
    await browser.act(tip, action="undo")
    assert page_says(browser.body, "desk.undone_note", code=code)
    assert "Đã cử người tới" not in browser.body
    await browser.act(tip, action="ask", question="Mấy người?", confirmed="1")
    clock.advance(seconds=15)
    await browser.act(tip, action="undo")
    assert page_says(browser.body, "desk.undone_question", code=code)
    assert "Mấy người?" not in browser.body
    assert [n.state for n in await _to_tipster(runtime, tip)] == [OutboxState.DROPPED] * 2
    # The tipster's /status shows neither.
    await resident.send(f"/status {code}")
    await resident.send(passphrase)
    assert resident.shows("status.view", code=code)
    assert "Đã cử người tới" not in resident.said() and "Mấy người?" not in resident.said()
    # Too late: after half a minute the question stands and goes.
    await browser.act(tip, action="ask", question="Ở đâu?", confirmed="1")
    clock.advance(seconds=31)
    await browser.act(tip, action="undo")
    assert page_says(browser.body, "desk.undo_late", code=code) and "Ở đâu?" in browser.body
