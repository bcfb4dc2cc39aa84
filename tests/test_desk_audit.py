"""The admins' audit page over real HTTP: rows the chat and the desk wrote, in words, narrowed
by officer, tip, action and days, paged; for admins alone; a tip outside the scope unnamed."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.operator import set_status
from bot.runtime import Runtime
from storage.audit import add_audit
from storage.models import AuditLog, Officer
from tests import test_desk
from tests.conftest import FakeClock, Person, file_tip
from tests.test_desk import Browser, page_says, signed_in
from tests.test_officers import officer, tip_id, vi

# The desk on a local server and a browser for it, as tests/test_desk.py has them.
desk, browser = test_desk.desk, test_desk.browser
WHEN, WHO, ACTION, TIP, DETAIL = range(5)


def rows(body: str) -> list[list[str]]:
    """The audit table's rows, each cell as a person reads it."""
    table = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(
            r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]  # fmt: skip


async def officer_id(runtime: Runtime, name: str) -> int:
    async with runtime.db.reading() as db:
        found = await db.scalar(select(Officer.id).where(Officer.name == name))
    assert found is not None
    return int(found)


async def busy_day(runtime: Runtime, desk: TestServer) -> tuple[str, str]:
    """A day's work two days ago: An views and exports in the chat, signs in to the desk,
    notes and sets a status there; the operator closes another tip from the command line.
    The two tips' codes."""
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy", story="Trộm xe ở chợ")
    later, _ = await file_tip(resident, area="an thuy", story="Đánh nhau")
    an = await officer(runtime, "An", "an-thuy")
    await an.send(f"/tip {code}")
    await an.send("/export")
    an_desk = Browser(desk)
    await signed_in(an_desk, an)
    tip = await tip_id(runtime, code)
    await an_desk.get(f"/desk/tip/{tip}")
    await an_desk.act(tip, action="internal_note", note="Đã gọi trưởng thôn")
    await an_desk.act(tip, action="status", status="verifying")
    await an_desk.close()
    await set_status(runtime, later, "handled", None)
    return code, later


async def test_an_admin_reads_what_the_chat_and_the_desk_did_in_words(
    runtime: Runtime, browser: Browser, desk: TestServer, clock: FakeClock
) -> None:
    code, later = await busy_day(runtime, desk)
    clock.advance(days=2)
    chief = await officer(runtime, "Chief", None, admin=True)
    await signed_in(browser, chief)
    assert 'id="nav-audit"' in browser.body
    page = await browser.get("/desk/audit")
    assert browser.status == 200
    seen = rows(page)
    assert seen[0][WHO] == "Chief" and seen[0][ACTION] == vi("audit.action.desk_audit")
    said = {(row[WHO], row[ACTION], row[TIP]) for row in seen}
    assert said >= {
        ("An", vi("audit.action.view"), code),
        ("An", vi("audit.action.export"), ""),
        ("An", vi("audit.action.desk_sign_in"), ""),
        ("An", vi("audit.action.internal_note"), code),
        ("An", vi("audit.action.status", status=vi("status.verifying")), code),
        (vi("audit.operator"), vi("audit.action.status", status=vi("status.handled")), later),
    }
    assert f'href="/desk/tip/{await tip_id(runtime, code)}"' in page
    # Newest first, on the local clock.
    moments = [datetime.strptime(row[WHEN], "%d/%m/%Y %H:%M:%S") for row in seen]
    assert moments == sorted(moments, reverse=True)
    assert moments[0] == clock.now.astimezone(runtime.timezone).replace(tzinfo=None, microsecond=0)


async def test_the_filters_narrow_the_log_by_officer_tip_action_and_days(
    runtime: Runtime, browser: Browser, desk: TestServer, clock: FakeClock
) -> None:
    code, _ = await busy_day(runtime, desk)
    clock.advance(days=2)
    await signed_in(browser, await officer(runtime, "Chief", None, admin=True))
    # By officer: An's rows alone.
    narrowed = rows(await browser.get(f"/desk/audit?officer={await officer_id(runtime, 'An')}"))
    assert narrowed and {row[WHO] for row in narrowed} == {"An"}
    operator = rows(await browser.get("/desk/audit?officer=operator"))
    assert {row[WHO] for row in operator} == {vi("audit.operator")}
    # By tip, typed as people type codes.
    narrowed = rows(await browser.get(f"/desk/audit?code={code.lower().replace('-', '')}"))
    assert {row[TIP] for row in narrowed} == {code}
    assert {row[ACTION] for row in narrowed} == {
        vi("audit.action.view"),
        vi("audit.action.internal_note"),
        vi("audit.action.status", status=vi("status.verifying")),
    }
    # By action, from the list of the actions present.
    assert '<option value="export">' in browser.body
    assert '<option value="status:verifying">' in browser.body
    narrowed = rows(await browser.get("/desk/audit?action=export"))
    assert [(row[WHO], row[ACTION]) for row in narrowed] == [("An", vi("audit.action.export"))]
    # By days: the last two days hold the chief's arrival, not An's work.
    today = clock.now.astimezone(runtime.timezone).date()
    narrowed = rows(await browser.get(f"/desk/audit?start={today - timedelta(days=1)}"))
    assert "Chief" in {row[WHO] for row in narrowed} and "An" not in {row[WHO] for row in narrowed}
    earlier = today - timedelta(days=2)
    narrowed = rows(await browser.get(f"/desk/audit?start={earlier}&end={earlier}"))
    assert "Chief" not in {row[WHO] for row in narrowed} and "An" in {row[WHO] for row in narrowed}
    await browser.get(f"/desk/audit?start={today}&end={earlier}")
    assert page_says(browser.body, "export.backwards", start=f"{today:%d/%m/%Y}",
                     end=f"{earlier:%d/%m/%Y}") and rows(browser.body) == []  # fmt: skip
    await browser.get("/desk/audit?start=hôm qua")
    assert page_says(browser.body, "export.bad_day", typed="hôm qua")
    # Reading the log is itself in the log, with what was looked for.
    async with runtime.db.reading() as db:
        details = list(
            await db.scalars(select(AuditLog.detail).where(AuditLog.action == "desk_audit"))
        )
    assert "action=export page=1" in details


async def test_the_log_comes_fifty_rows_a_page_and_the_filters_stay_in_the_address(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    chief = await officer(runtime, "Chief", None, admin=True)
    async with runtime.db.transaction() as db:
        for number in range(70):
            clock.advance(seconds=1)
            await add_audit(db, officer_id=None, action="revoke", now=clock.now,
                            detail=f"officer {number}")  # fmt: skip
    await signed_in(browser, chief)
    first = rows(await browser.get("/desk/audit?action=revoke"))
    assert len(first) == 50 and first[0][DETAIL] == "officer 69"
    assert page_says(browser.body, "desk.audit.count", total=70, page=1, pages=2)
    following = re.search(r'href="([^"]+)" rel="next"', browser.body)
    assert following is not None and "action=revoke" in following.group(1)
    second = rows(await browser.get("/desk/audit" + html.unescape(following.group(1))))
    assert [row[DETAIL] for row in second] == [f"officer {n}" for n in range(19, -1, -1)]
    assert 'rel="next"' not in browser.body and 'rel="prev"' in browser.body


async def test_only_an_admin_finds_the_audit_page(runtime: Runtime, browser: Browser) -> None:
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    assert 'id="nav-audit"' not in browser.body and "/desk/audit" not in browser.body
    await browser.get("/desk/no-such-page")
    nothing = browser.status, browser.body
    await browser.get("/desk/audit?action=view")
    assert (browser.status, browser.body) == nothing and browser.status == 404
    async with runtime.db.reading() as db:
        actions = list(await db.scalars(select(AuditLog.action)))
    assert "desk_audit" not in actions


async def test_a_tip_outside_the_admins_scope_goes_unnamed_and_no_tipster_shows(
    runtime: Runtime, browser: Browser
) -> None:
    user, chat = "tipster-7f3a9c51", "chat-7f3a9c51"
    resident = Person(runtime, user=user, chat=chat)
    own, _ = await file_tip(resident, area="an thuy", contact=True, story="Ở An Thủy")
    kept, _ = await file_tip(resident, area="an thuy", top_only=True, story="Chỉ huyện")
    other, _ = await file_tip(resident, area="cam thuy", story="Ở Cam Thủy")
    cam = await officer(runtime, "Cam", "cam-thuy")
    await cam.send(f"/tip {other}")
    district = await officer(runtime, "Huyen", None)
    await district.send(f"/tip {kept}")
    chief = await officer(runtime, "Chief", "an-thuy", admin=True)
    await chief.send(f"/tip {own}")
    await signed_in(browser, chief)
    pages = [await browser.get("/desk/audit")]
    seen = rows(browser.body)
    assert ("Cam", vi("audit.action.view"), "") in {(r[WHO], r[ACTION], r[TIP]) for r in seen}
    assert ("Huyen", vi("audit.action.view"), "") in {(r[WHO], r[ACTION], r[TIP]) for r in seen}
    assert ("Chief", vi("audit.action.view"), own) in {(r[WHO], r[ACTION], r[TIP]) for r in seen}
    for hidden in (other, kept):
        assert hidden not in browser.body
        assert f'href="/desk/tip/{await tip_id(runtime, hidden)}"' not in browser.body
        # Asked for by its code, it is as unknown as a code that does not exist.
        pages.append(await browser.get(f"/desk/audit?code={hidden}"))
        assert rows(browser.body) == [] and page_says(browser.body, "desk.no_tip")
    pseudonym = runtime.sealer.pseudonym("console", user)
    for page in pages:
        for secret in ("7f3a9c51", pseudonym):
            assert secret not in page
