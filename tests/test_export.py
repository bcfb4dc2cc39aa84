"""/export as the officer and the superior they hand it to read it: the workbook opened with
openpyxl, in the officer's language, with real dates, a thread sheet, in scope, and anonymous."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.common.codes import parse_code
from handlers.common.texts import text
from handlers.triage.export import ABOUT_COLUMNS, HISTORY_COLUMNS, THREAD_COLUMNS, TIP_COLUMNS
from storage.models import Tip
from tests.conftest import FakeClock, Person, file_tip
from tests.test_officers import audit_actions, officer, vi

COLUMNS = {
    "export.sheet.tips": TIP_COLUMNS,
    "export.sheet.history": HISTORY_COLUMNS,
    "export.sheet.thread": THREAD_COLUMNS,
    "export.sheet.about": ABOUT_COLUMNS,
}
SHEETS = tuple(COLUMNS)
# The sheets with a row for each tip, or for each thing that happened to one.
TIP_SHEETS = SHEETS[:3]
DISTRICT_POLICE = {"vi": "Công an huyện Lệ Thủy", "en": "Lệ Thủy district police"}


def exported(person: Person) -> Workbook:
    """The workbook in the officer's last answer."""
    (reply,) = person.last
    assert reply.document is not None and reply.document.name.endswith(".xlsx")
    return load_workbook(io.BytesIO(reply.document.content))


def sheet(book: Workbook, key: str, lang: str = "vi") -> Worksheet:
    """A sheet found by the message id of its title."""
    found = book[text(lang, key)]
    assert isinstance(found, Worksheet)
    return found


def records(book: Workbook, key: str, lang: str = "vi") -> list[dict[str, Any]]:
    """Each row below the header of a sheet, by the message id of its column's header; the
    header is checked to read in `lang`."""
    columns = COLUMNS[key]
    header, *rows = sheet(book, key, lang).iter_rows(values_only=True)
    police = DISTRICT_POLICE[lang]
    assert header == tuple(text(lang, column.header, police=police) for column in columns)
    ids = [column.header for column in columns]
    return [dict(zip(ids, row, strict=True)) for row in rows]


def unzipped(content: bytes) -> str:
    """Every part of an .xlsx as text: the zip's compression hides a plain byte search."""
    with zipfile.ZipFile(io.BytesIO(content)) as parts:
        return "".join(parts.read(name).decode() for name in parts.namelist())


async def filed_at(runtime: Runtime, code: str) -> datetime:
    """When a tip was stored, as the database keeps it (UTC)."""
    async with runtime.db.reading() as db:
        found = await db.scalar(select(Tip.created_at).where(Tip.code == parse_code(code)))
    assert found is not None
    return found


async def test_an_export_reads_in_vietnamese_with_real_dates(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Headers and values come from the catalogue, times are Excel dates on the local clock,
    the header row stays put and filters, and every column is wide enough for its header."""
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy", place="Chợ Tréo", urgent=True)
    an = await officer(runtime, "An", "an-thuy")
    await an.send("/export")
    book = exported(an)
    assert book.sheetnames == [vi(key) for key in SHEETS]
    tips = sheet(book, "export.sheet.tips")
    (tip,) = records(book, "export.sheet.tips")
    local = (await filed_at(runtime, code)) + timedelta(hours=7)  # Asia/Ho_Chi_Minh
    assert tip["export.column.filed"] == local.replace(tzinfo=None, microsecond=0)
    assert tip["export.column.status_at"] == tip["export.column.filed"]
    assert tips["B2"].is_date and tips["B2"].number_format == "dd/mm/yyyy hh:mm"
    assert tip == tip | {
        "export.column.code": code,
        "export.column.category": "Ma túy",
        "export.column.area": "Xã An Thủy",
        "export.column.place": "Chợ Tréo",
        "export.column.occurred": vi("when.today"),
        "export.column.urgent": vi("yes"),
        "export.column.top_only": vi("no"),
        "export.column.status": vi("status.received"),
        "export.column.assigned": None,
        "export.column.attachments": 0,
    }
    assert tips.freeze_panes == "A2" and tips.auto_filter.ref == "A1:R2"
    for cell in tips[1]:
        width = tips.column_dimensions[cell.column_letter].width
        assert width >= len(str(cell.value)), cell.value
    assert tips["R2"].alignment.wrap_text  # the tip's text wraps in its wide column
    (history,) = records(book, "export.sheet.history")
    assert history["export.column.status"] == vi("status.received")


async def test_an_export_says_what_it_covers_and_who_made_it(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Its last sheet tells whoever it is handed to the scope, the days, the count, who
    exported it and when, and the time zone of every time in it."""
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "an-thuy")
    await an.send("/export 20/11/2026")
    made = (clock.now + timedelta(hours=7)).replace(tzinfo=None, microsecond=0)
    book = exported(an)
    about = {row["export.column.item"]: row["export.column.value"] for row in
             records(book, "export.sheet.about")}  # fmt: skip
    assert about == {
        vi("export.about.scope"): "Xã An Thủy",
        vi("export.about.from"): datetime(2026, 11, 20),
        vi("export.about.to"): datetime(2026, 11, 25),
        vi("export.about.tips"): 1,
        vi("export.about.made"): made,
        vi("export.about.by"): "An",
        vi("export.about.timezone"): "Asia/Ho_Chi_Minh",
        vi("export.about.anonymous"): vi("export.about.anonymous.value"),
    }
    (_, *details) = sheet(book, "export.sheet.about")["B"]
    assert all(cell.alignment.horizontal == "left" for cell in details)  # dates and counts too


async def test_an_officer_who_reads_english_gets_english(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "an-thuy")
    await an.send("/lang")
    await an.press("English")
    await an.send("/export")
    book = exported(an)
    assert book.sheetnames == [text("en", key) for key in SHEETS]
    (tip,) = records(book, "export.sheet.tips", "en")
    assert tip == tip | {
        "export.column.category": "Drugs",
        "export.column.area": "An Thủy commune",
        "export.column.occurred": text("en", "when.today"),
        "export.column.urgent": text("en", "no"),
        "export.column.top_only": text("en", "no"),
        "export.column.status": text("en", "status.received"),
    }
    (history,) = records(book, "export.sheet.history", "en")
    assert history["export.column.status"] == text("en", "status.received")


async def ask_and_answer(an: Person, resident: Person, code: str, passphrase: str) -> None:
    """The officer asks, the tipster answers from /status, the officer adds a public note."""
    await an.send(f"/tip {code}")
    await an.press("Hỏi người báo tin")
    await an.send("Khoảng mấy giờ?")
    await resident.send(f"/status {code}")
    await resident.send(passphrase)
    await resident.press("Trả lời câu hỏi")
    await resident.send("Khoảng 9 giờ tối")
    await an.send(f"/tip {code}")
    await an.press("Ghi chú công khai")
    await an.send("Đã cử người tới kiểm tra")


async def test_the_thread_sheet_holds_questions_answers_and_public_notes(
    runtime: Runtime,
) -> None:
    """Tip by tip, oldest first, who wrote each: the officer by name, the tipster as such."""
    resident = Person(runtime, user="r1", chat="r1")
    code, passphrase = await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "an-thuy")
    await ask_and_answer(an, resident, code, passphrase)
    await an.send("/export")
    thread = records(exported(an), "export.sheet.thread")
    said = [
        (row["export.column.who"], row["export.column.kind"], row["export.column.text"])
        for row in thread
    ]
    assert said == [
        (vi("export.who.officer", name="An"), vi("export.kind.question"), "Khoảng mấy giờ?"),
        (vi("export.who.tipster"), vi("export.kind.answer"), "Khoảng 9 giờ tối"),
        (vi("export.who.officer", name="An"), vi("export.kind.public_note"),
         "Đã cử người tới kiểm tra"),
    ]  # fmt: skip
    times = [row["export.column.at"] for row in thread]
    assert all(isinstance(moment, datetime) for moment in times) and times == sorted(times)
    assert {row["export.column.code"] for row in thread} == {code}


async def test_every_sheet_holds_only_the_officers_scope(runtime: Runtime) -> None:
    """A commune officer's export holds their commune's tips and threads only, never a tip
    kept for the district alone, not even the code of one their tip repeats; the district
    officer's holds them all."""
    resident = Person(runtime, user="r1", chat="r1")
    own, own_pass = await file_tip(resident, area="an thuy")
    kept, kept_pass = await file_tip(resident, area="an thuy", top_only=True)
    other, other_pass = await file_tip(resident, area="cam thuy")
    an = await officer(runtime, "An", "an-thuy")
    district = await officer(runtime, "Huyen", None)
    await ask_and_answer(an, resident, own, own_pass)
    await ask_and_answer(district, resident, kept, kept_pass)
    await ask_and_answer(await officer(runtime, "Cam", "cam-thuy"), resident, other, other_pass)
    await district.send(f"/tip {own}")
    await district.press("Đóng: trùng")
    await district.send(kept)
    assert district.shows("duplicate.done", code=own, original=kept)
    await an.send(f"/tip {own}")  # the chat's view keeps the same silence
    assert kept not in an.said() and all(kept not in o.label for o in an.options())
    await district.send(f"/tip {own}")
    assert district.shows("view.duplicate_of", code=kept)
    for reader, codes in ((an, {own}), (district, {own, kept, other})):
        await reader.send("/export")
        book = exported(reader)
        for key in TIP_SHEETS:
            found = {row["export.column.code"] for row in records(book, key)}
            assert found == codes, (key, found)
    (reply,) = an.last
    assert reply.document is not None and kept not in unzipped(reply.document.content)
    tips = {row["export.column.code"]: row for row in records(book, SHEETS[0])}
    assert tips[kept]["export.column.top_only"] == vi("yes")
    assert tips[own]["export.column.top_only"] == vi("no")
    assert tips[own]["export.column.duplicate_of"] == kept


async def test_an_export_is_inert_and_says_nothing_of_the_tipster(
    runtime: Runtime, clock: FakeClock
) -> None:
    """No part of the file holds the tipster's platform id, chat or pseudonym, and a story
    that looks like a formula stays text."""
    user, chat = "zyxwvu-0912345678", "chat-qwerty-4242"
    resident = Person(runtime, user=user, chat=chat)
    code, passphrase = await file_tip(
        resident, area="an thuy", story='=HYPERLINK("http://x","bấm")'
    )
    await file_tip(resident, area="cam thuy", story="Ở xã khác")
    an = await officer(runtime, "An", "an-thuy")
    await ask_and_answer(an, resident, code, passphrase)
    today = clock.now.date()
    await an.send(f"/export {today - timedelta(days=1):%d/%m/%Y} {today:%Y-%m-%d}")
    (reply,) = an.last
    assert reply.document is not None
    (tip,) = records(exported(an), "export.sheet.tips")
    assert tip["export.column.description"] == '\'=HYPERLINK("http://x","bấm")'  # never live
    everything = unzipped(reply.document.content)
    pseudonym = runtime.sealer.pseudonym("console", user)
    for needle in (user, chat, pseudonym, "0912345678", passphrase):
        assert needle not in everything, needle
    await an.send("/export yesterday")
    assert an.shows("export.usage", days=30) and "{" not in an.said()
    assert "export" in await audit_actions(runtime)
