"""A tip's attachments in the web desk, fetched from the (fake) Telegram Bot API through the
server: pictures shown in the page, other files downloaded under a name the server makes, the
scope checked and audited on every file, and no token or platform address in the browser."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import insert, select, text

from bot.channels.telegram_files import TelegramFiles
from bot.desk.app import mount_desk
from bot.runtime import Runtime
from handlers.common.types import Kind, Media, MediaKind
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import Attachment, AuditLog, Contact, Tip, TipStatus
from tests.conftest import FakeClock, Person, receipt
from tests.fake_telegram import MOST_FILE_BYTES, FakeTelegramAPI
from tests.test_desk import Browser, page_says, signed_in
from tests.test_officers import officer, tip_id


def tiny_png() -> bytes:
    """A real 2×2 PNG a browser can draw."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.7\n% a statement\n"
HOSTILE = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API, keeping the files the tips below refer to."""
    async with FakeTelegramAPI() as fake:
        yield fake


@asynccontextmanager
async def desk_on(runtime: Runtime, api: FakeTelegramAPI) -> AsyncIterator[TestServer]:
    """The desk on a real local server, fetching Telegram's files from the fake."""
    files = TelegramFiles(api.token, api.root)
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    mount_desk(app, runtime, public_url="http://127.0.0.1", files={"telegram": files})
    await server.start_server()
    runtime.desk_url = str(server.make_url("")).rstrip("/")
    try:
        yield server
    finally:
        await server.close()
        await files.close()


@pytest.fixture
async def desk(runtime: Runtime, api: FakeTelegramAPI) -> AsyncIterator[TestServer]:
    """The desk, fetching Telegram's files from the fake."""
    async with desk_on(runtime, api) as server:
        yield server


@dataclass
class Fetched:
    """One answer of the desk, byte for byte."""

    status: int
    headers: dict[str, str]
    body: bytes


class FileBrowser(Browser):
    """A browser that also keeps every answer's raw bytes, pages and files alike."""

    def __init__(self, server: TestServer) -> None:
        super().__init__(server)
        self.seen: list[bytes] = []

    async def _read(self, response: object) -> str:
        page = await super()._read(response)
        self.seen.append(page.encode() + repr(self.headers).encode())
        return page

    async def fetch(self, path: str) -> Fetched:
        """A file, as the browser gets it (no redirect followed)."""
        url = self.server.make_url(path)
        async with self.session.get(url, allow_redirects=False) as response:
            got = Fetched(response.status, dict(response.headers), await response.read())
        self.seen.append(got.body + repr(got.headers).encode())
        return got


@pytest.fixture
async def browser(desk: TestServer) -> AsyncIterator[FileBrowser]:
    """A browser with no cookies yet."""
    opened = FileBrowser(desk)
    yield opened
    await opened.close()


async def file_with(person: Person, *media: Media, area: str = "an thuy") -> str:
    """File a tip whose story comes with these attachments; returns its code."""
    await person.send("/tip")
    await person.press("Ma túy")
    await person.send(area)
    await person.press("Bỏ qua")
    await person.send("Có người bán hàng cấm, ảnh bên dưới")
    for item in media:
        await person.deliver(person.incoming(Kind.MEDIA, media=(item,)))
    await person.press("Hôm nay")
    await person.press("Không")
    await person.press("không cho liên hệ")
    return receipt(person)[0]


def telegram_resident(runtime: Runtime) -> Person:
    return Person(runtime, user="r1", chat="r1", channel="telegram")


async def desk_files(runtime: Runtime) -> list[tuple[int | None, str | None]]:
    async with runtime.db.transaction() as db:
        rows = await db.execute(
            select(AuditLog.tip_id, AuditLog.detail).where(AuditLog.action == "desk_file")
        )
    return list(rows.tuples())


def leaks(api: FakeTelegramAPI, browser: FileBrowser) -> list[str]:
    """Anything of the platform's addresses found in what the browser got."""
    token = api.token.split(":", 1)[1]
    secrets = [api.token, token, api.root, "/file/bot", "photos/", "documents/"]
    return [s for s in secrets for seen in browser.seen if s.encode() in seen]


async def test_a_photo_shows_in_the_page_and_other_files_download_under_a_made_name(
    runtime: Runtime, api: FakeTelegramAPI, browser: FileBrowser
) -> None:
    api.keep_file("AgACphoto", tiny_png(), "photos/file_1.jpg")  # a PNG, whatever the name says
    api.keep_file("BQACpdf", PDF, "documents/file_2.pdf")
    api.keep_file("BQAChostile", HOSTILE, "documents/file_3.html")
    code = await file_with(
        telegram_resident(runtime),
        Media(MediaKind.PHOTO, "AgACphoto"),
        Media(MediaKind.DOCUMENT, "BQACpdf"),
        Media(MediaKind.DOCUMENT, "BQAChostile"),
    )
    tip = await tip_id(runtime, code)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    page = await browser.get(f"/desk/tip/{tip}")
    assert f'<img src="/desk/file/{tip}/1"' in page
    assert f'href="/desk/file/{tip}/2" download' in page and f'src="/desk/file/{tip}/2"' not in page
    assert page_says(page, "desk.file.download", name="Tệp 3")
    assert page_says(page, "desk.file.limit", code=code)

    photo = await browser.fetch(f"/desk/file/{tip}/1")
    assert photo.status == 200 and photo.body == tiny_png()
    assert photo.headers["Content-Type"] == "image/png"
    assert photo.headers["Content-Disposition"] == f'inline; filename="{code}-1.png"'
    assert photo.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"

    pdf = await browser.fetch(f"/desk/file/{tip}/2")
    assert pdf.status == 200 and pdf.body == PDF
    assert pdf.headers["Content-Type"] == "application/octet-stream"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{code}-2.pdf"'

    # A page a tipster sent as a file: bytes to save, never a page of the desk's origin.
    hostile = await browser.fetch(f"/desk/file/{tip}/3")
    assert hostile.body == HOSTILE
    assert hostile.headers["Content-Type"] == "application/octet-stream"
    assert hostile.headers["Content-Disposition"] == f'attachment; filename="{code}-3.bin"'
    assert hostile.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"

    assert await desk_files(runtime) == [(tip, "1"), (tip, "2"), (tip, "3")]
    assert leaks(api, browser) == []


async def test_an_officer_outside_the_scope_gets_no_file_and_no_word_of_it(
    runtime: Runtime, api: FakeTelegramAPI, browser: FileBrowser
) -> None:
    api.keep_file("AgACcam", tiny_png(), "photos/file_4.jpg")
    resident = telegram_resident(runtime)
    code = await file_with(resident, Media(MediaKind.PHOTO, "AgACcam"), area="cam thuy")
    tip = await tip_id(runtime, code)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    theirs = await browser.fetch(f"/desk/file/{tip}/1")
    nothing = await browser.fetch("/desk/file/999999/1")
    assert theirs.status == nothing.status == 404
    assert theirs.body == nothing.body and tiny_png() not in theirs.body
    assert page_says(theirs.body.decode(), "desk.no_tip")
    assert api.calls_to("getFile") == [] and await desk_files(runtime) == []
    # Nor is a tip's file number a way to learn how many files it has.
    await signed_in(browser, await officer(runtime, "Cam", "cam-thuy"))
    assert (await browser.fetch(f"/desk/file/{tip}/1")).status == 200
    missing = await browser.fetch(f"/desk/file/{tip}/2")
    assert missing.status == 404 and page_says(missing.body.decode(), "desk.file.none")


async def test_files_from_the_console_and_zalo_say_why_they_are_not_here(
    runtime: Runtime, api: FakeTelegramAPI, browser: FileBrowser
) -> None:
    console = Person(runtime, user="c1", chat="c1", channel="console")
    typed = await file_with(console, Media(MediaKind.PHOTO, "console:anh-cho"))
    zalo = Person(runtime, user="z1", chat="z1", channel="zalo")
    address = "https://photo.zalo.example/abc123.jpg"
    zalo_code = await file_with(zalo, Media(MediaKind.PHOTO, address))
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    for code, said in ((typed, "desk.file.console"), (zalo_code, "desk.file.zalo")):
        tip = await tip_id(runtime, code)
        page = await browser.get(f"/desk/tip/{tip}")
        assert page_says(page, said, code=code) and "/desk/file/" not in page
        assert "photo.zalo.example" not in page
        direct = await browser.fetch(f"/desk/file/{tip}/1")
        assert direct.status == 404 and page_says(direct.body.decode(), said, code=code)
    assert api.calls_to("getFile") == []


async def test_a_file_telegram_no_longer_gives_is_a_clear_page(
    runtime: Runtime, api: FakeTelegramAPI, browser: FileBrowser
) -> None:
    api.keep_file("BQACbig", b"\0" * (MOST_FILE_BYTES + 1), "videos/file_5.mp4")
    api.keep_file("AgACfine", tiny_png(), "photos/file_6.jpg")
    code = await file_with(
        telegram_resident(runtime),
        Media(MediaKind.PHOTO, "AgACexpired"),  # a file id Telegram does not know (any more)
        Media(MediaKind.VIDEO, "BQACbig"),
        Media(MediaKind.PHOTO, "AgACfine"),
    )
    tip = await tip_id(runtime, code)
    await signed_in(browser, await officer(runtime, "An", "an-thuy"))
    gone = await browser.fetch(f"/desk/file/{tip}/1")
    assert gone.status == 404 and page_says(gone.body.decode(), "desk.file.gone")
    assert gone.headers["Content-Type"].startswith("text/html")
    big = await browser.fetch(f"/desk/file/{tip}/2")
    assert big.status == 502 and page_says(big.body.decode(), "desk.file.too_big", code=code)
    api.fail_next("getFile", status=500)
    down = await browser.fetch(f"/desk/file/{tip}/3")
    assert down.status == 502 and page_says(down.body.decode(), "desk.file.unreachable")
    assert (await browser.fetch(f"/desk/file/{tip}/3")).body == tiny_png()  # once it answers
    # Every try is audited, fetched or not.
    assert await desk_files(runtime) == [(tip, "1"), (tip, "2"), (tip, "3"), (tip, "3")]
    assert leaks(api, browser) == []


async def test_when_every_download_slot_is_taken_the_page_says_to_try_again(
    runtime: Runtime, api: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.desk.web.DOWNLOADS_AT_ONCE", 0)  # every slot taken
    monkeypatch.setattr("bot.desk.files.WAIT_SECONDS", 0.05)
    api.keep_file("AgACphoto", tiny_png(), "photos/file_1.jpg")
    code = await file_with(telegram_resident(runtime), Media(MediaKind.PHOTO, "AgACphoto"))
    async with desk_on(runtime, api) as server:
        browser = FileBrowser(server)
        await signed_in(browser, await officer(runtime, "An", "an-thuy"))
        busy = await browser.fetch(f"/desk/file/{await tip_id(runtime, code)}/1")
        await browser.close()
    assert busy.status == 503 and page_says(busy.body.decode(), "desk.file.busy")
    assert api.calls_to("getFile") == []


async def test_attachments_stored_before_the_channel_was_recorded_get_one(
    database: Database, clock: FakeClock
) -> None:
    """Old rows take the channel of the tip's contact, else the one their reference's shape
    says; the revision goes down and up again."""
    await downgrade(database, "0017")
    tip_row = {
        "category": "drugs",
        "area": "an_thuy",
        "description": "cũ",
        "occurred": "today",
        "urgent": False,
        "language": "vi",
        "passphrase_hash": "x",
        "failed_checks": 0,
        "status": TipStatus.RECEIVED.value,
        "status_at": clock(),
        "top_only": False,
        "created_at": clock(),
    }
    refs = {"A": "AgACold", "B": "console:anh", "C": "https://zalo.example/p.jpg", "D": "AgACz"}
    async with database.transaction() as db:
        tips: dict[str, int] = {}
        for code, ref in refs.items():
            made = await db.scalar(insert(Tip).values(code=code * 8, **tip_row).returning(Tip.id))
            tips[code] = int(made or 0)
            await db.execute(
                text(
                    "INSERT INTO attachment (tip_id, position, kind, ref) "
                    "VALUES (:tip, 0, 'photo', :ref)"
                ),
                {"tip": tips[code], "ref": ref},
            )
        contact = {"channel": "zalo_oa", "sealed": b"x", "expires_at": clock()}
        await db.execute(insert(Contact).values(tip_id=tips["D"], **contact))
    await upgrade(database)
    async with database.transaction() as db:
        rows = await db.execute(select(Attachment.tip_id, Attachment.channel))
        channels = dict(rows.tuples().all())
    assert [channels[tips[code]] for code in "ABCD"] == ["telegram", "console", "zalo", "zalo_oa"]
