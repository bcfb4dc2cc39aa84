"""The desk's export over real HTTP: the same workbook as /export, downloaded, in the officer's
language, for their scope only, audited, anonymous; bad days are said and nothing leaves."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.common.texts import text
from storage.models import AuditLog
from tests import test_desk
from tests.conftest import FakeClock, Person, file_tip
from tests.test_desk import Browser, page_says, signed_in
from tests.test_export import SHEETS, TIP_SHEETS, ask_and_answer, records, sheet, unzipped
from tests.test_officers import officer, vi

# The desk on a local server and a browser for it, as tests/test_desk.py has them.
desk, browser = test_desk.desk, test_desk.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def download(browser: Browser, start: str, end: str) -> tuple[bytes, dict[str, str]]:
    """Open the export page and post its form for these days: the file and the headers."""
    await browser.get("/desk/export")
    fields = {"form_token": browser.form_token(), "start": start, "end": end}
    url = browser.server.make_url("/desk/export")
    async with browser.session.post(url, data=fields) as response:
        assert response.status == 200, await response.text()
        return await response.read(), dict(response.headers)


def opened(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


async def exports_audited(runtime: Runtime) -> list[str | None]:
    async with runtime.db.reading() as db:
        rows = await db.scalars(select(AuditLog).where(AuditLog.action == "export"))
        return [row.detail for row in rows]


async def test_the_desk_downloads_the_chats_workbook_for_the_scope_alone(
    runtime: Runtime, browser: Browser, clock: FakeClock
) -> None:
    """Vietnamese first, English after /lang en; the commune's tips and thread only, never
    another commune's nor one kept for the district; real dates; audited as /export is."""
    user, chat = "zyxwvu-0912345678", "chat-qwerty-4242"
    resident = Person(runtime, user=user, chat=chat)
    own, passphrase = await file_tip(resident, area="an thuy", story="Trộm xe ở chợ")
    kept, _ = await file_tip(resident, area="an thuy", top_only=True, story="Chỉ huyện biết")
    other, _ = await file_tip(resident, area="cam thuy", story="Ở xã khác")
    an = await officer(runtime, "An", "an-thuy")
    await ask_and_answer(an, resident, own, passphrase)
    await signed_in(browser, an)
    assert 'href="/desk/export"' in browser.body  # from the queue and the nav
    await browser.get("/desk/export")
    today = clock.now.date()
    assert f'name="end" value="{today.isoformat()}"' in browser.body
    content, headers = await download(browser, "2026-11-01", today.isoformat())
    assert headers["Content-Type"] == XLSX and headers["Cache-Control"] == "no-store"
    disposition = headers["Content-Disposition"]
    name = f"tipline-an-thuy-2026-11-01-{today.isoformat()}.xlsx"
    assert disposition.startswith(f'attachment; filename="{name}"')
    book = opened(content)
    assert book.sheetnames == [vi(key) for key in SHEETS]
    for key in TIP_SHEETS:
        assert {row["export.column.code"] for row in records(book, key)} == {own}, key
    (tip,) = records(book, "export.sheet.tips")
    assert isinstance(tip["export.column.filed"], datetime) and sheet(book, SHEETS[0])["B2"].is_date
    assert tip["export.column.status"] == vi("status.received")
    thread = records(book, "export.sheet.thread")
    assert [row["export.column.kind"] for row in thread] == [
        vi("export.kind.question"),
        vi("export.kind.answer"),
        vi("export.kind.public_note"),
    ]
    assert all(isinstance(row["export.column.at"], datetime) for row in thread)
    everything = unzipped(content)
    pseudonym = runtime.sealer.pseudonym("console", user)
    for needle in (kept, other, "Chỉ huyện biết", "Ở xã khác", user, chat, pseudonym, passphrase):
        assert needle not in everything, needle
    # The officer reads English from now on, in the chat and on the desk alike.
    await an.send("/lang")
    await an.press("English")
    content, _ = await download(browser, "2026-11-01", today.isoformat())
    book = opened(content)
    assert book.sheetnames == [text("en", key) for key in SHEETS]
    (tip,) = records(book, "export.sheet.tips", "en")
    assert tip["export.column.status"] == text("en", "status.received")
    # Each download is an audit row exactly like the chat's.
    await an.send(f"/export 01/11/2026 {today:%d/%m/%Y}")
    span = f"2026-11-01..{today.isoformat()} 1 tips"
    assert await exports_audited(runtime) == [span, span, span]


async def test_days_that_cannot_be_exported_are_said_and_nothing_is_exported(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "an-thuy")
    await signed_in(browser, an)
    refused = (
        ("hôm qua", "2026-11-25", "export.bad_day", {"typed": "hôm qua"}),
        ("2026-11-25", "2026-11-01", "export.backwards",
         {"start": "25/11/2026", "end": "01/11/2026"}),
        ("2025-01-01", "2026-11-25", "export.too_long",
         {"most": 366, "start": "01/01/2025", "end": "25/11/2026"}),
    )  # fmt: skip
    for start, end, said, values in refused:
        await browser.get("/desk/export")
        fields = {"form_token": browser.form_token(), "start": start, "end": end}
        await browser.post("/desk/export", fields)
        assert browser.status == 400 and page_says(browser.body, said, **values), said
        assert f'value="{start}"' in browser.body  # what was typed stays, to be corrected
    assert await exports_audited(runtime) == []
    # The chat refuses the same days with the same words, and says how /export is used.
    await an.send("/export 01/01/2025 25/11/2026")
    assert an.shows("export.too_long", most=366, start="01/01/2025", end="25/11/2026")
    assert an.shows("export.usage", days=30)
    assert await exports_audited(runtime) == []


async def test_an_export_posted_without_the_form_token_is_refused(
    runtime: Runtime, browser: Browser
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy")
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    for token in ({}, {"form_token": "0" * 40}):
        await browser.post("/desk/export", {**token, "start": "2026-11-01", "end": "2026-11-25"})
        assert browser.status == 403 and page_says(browser.body, "desk.stale_form")
        assert code not in browser.body
    assert "Content-Disposition" not in browser.headers
    assert await exports_audited(runtime) == []
