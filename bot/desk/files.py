"""A tip's attachments in the desk: fetched from their platform through this server.

The browser only ever sees /desk/file/<tip>/<n>: never a platform's address (Telegram's holds
the bot's token). The server decides how a file is served from its first bytes: a JPEG, PNG,
WebP or GIF shows as a picture, anything else is a download under a name made here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from bot.channels.base import Download, FileRefused, FileSource, Refusal
from bot.desk.web import DESK, ROOT, DeskApp, number, visit_of
from handlers.common.codes import show_code
from handlers.common.texts import N_
from handlers.triage.pages import FileLine, TipPage, get_visible_tip
from storage.audit import add_audit
from storage.models import Attachment

log = logging.getLogger("tipline.desk")

# A file response is a document of its own: no script, no plugin, no form, even opened alone.
FILE_POLICY = "default-src 'none'; sandbox"
# How long a request waits for one of the process's download slots (DeskApp.downloads).
WAIT_SECONDS = 30.0

# Pictures a browser shows, known by their first bytes, never by what the platform said.
_PICTURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
# Extensions a download may keep from the platform's name for it; any other becomes .bin.
_SAFE_SUFFIXES = frozenset(
    {
        *("pdf", "txt", "doc", "docx", "xls", "xlsx", "odt", "ods", "zip"),
        *("jpg", "jpeg", "png", "webp", "gif", "heic", "mp4", "mov", "webm", "3gp"),
        *("ogg", "oga", "opus", "mp3", "m4a", "aac", "wav", "amr"),
    }
)
_REFUSED = {
    Refusal.GONE: (404, N_("desk.file.gone")),
    Refusal.TOO_BIG: (502, N_("desk.file.too_big")),
    Refusal.UNREACHABLE: (502, N_("desk.file.unreachable")),
}
# Why a platform's files are not fetched, for those that have their reason.
_NOT_FETCHED = {
    "console": N_("desk.file.console"),
    "zalo": N_("desk.file.zalo"),
    "zalo_oa": N_("desk.file.zalo"),
}


def routes(app: web.Application) -> None:
    """The attachments' route (GET only: a HEAD would cost a download too)."""
    app.router.add_get("/file/{tip_id}/{number}", attachment, name="file", allow_head=False)


@dataclass(frozen=True, slots=True)
class ShownFile:
    """One attachment on a tip's page: a picture, a download, or why it is not here."""

    label: str
    href: str  # empty when this server cannot fetch it
    picture: bool
    why: str  # a message id, when it cannot be fetched


def shown_files(desk: DeskApp, tip: TipPage) -> tuple[ShownFile, ...]:
    """The tip's attachments as its page shows them."""
    return tuple(_shown(desk, tip.tip_id, line) for line in tip.attachments)


def _shown(desk: DeskApp, tip_id: int, line: FileLine) -> ShownFile:
    if line.channel in desk.files:
        href = f"{ROOT}/file/{tip_id}/{line.number}"
        return ShownFile(line.label, href, line.kind == "photo", "")
    return ShownFile(line.label, "", False, _why_not(line.channel))


def _why_not(channel: str) -> str:
    return _NOT_FETCHED.get(channel, N_("desk.file.not_here"))


async def attachment(request: web.Request) -> web.StreamResponse:
    """One attachment of a tip in the officer's scope, streamed from its platform; a tip
    outside the scope is a tip that does not exist."""
    desk, visit = request.app[DESK], visit_of(request)
    tip_id = number(request.match_info["tip_id"], default=0)
    found = await get_visible_tip(visit.db, visit.ctx, visit.user.officer, tip_id)
    if found is None:
        return desk.problem(visit.lang, 404, N_("desk.no_tip"))
    position = number(request.match_info["number"], default=0) - 1
    item = next((a for a in found.attachments if a.position == position), None)
    if item is None:
        return desk.problem(visit.lang, 404, N_("desk.file.none"))
    await add_audit(
        visit.db,
        officer_id=visit.user.officer.id,
        action="desk_file",
        now=visit.ctx.now,
        tip_id=found.id,
        detail=str(position + 1),
    )
    code = show_code(found.code)
    source = desk.files.get(item.channel)
    if source is None:
        return desk.problem(visit.lang, 404, _why_not(item.channel), code=code)
    return Fetched(desk, visit.lang, source, item, code)


class Fetched(web.StreamResponse):
    """An attachment fetched only once the request's transaction has committed: on SQLite the
    desk's transaction holds the process's one writer, and a download can take seconds."""

    def __init__(
        self, desk: DeskApp, lang: str, source: FileSource, item: Attachment, code: str
    ) -> None:
        super().__init__()
        self._desk, self._lang, self._source, self._code = desk, lang, source, code
        self._ref, self._tip_id, self._number = item.ref, item.tip_id, item.position + 1
        self._name = f"{code}-{self._number}"  # made here: nothing the platform or tipster named

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Fetch the file and send it as it arrives, or a page saying why it cannot be had."""
        if self.prepared:
            return await super().prepare(request)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                await self._desk.downloads.acquire()
        except TimeoutError:
            return await self._page(request, 503, N_("desk.file.busy"))
        try:
            async with self._source.download(self._ref) as download:
                return await self._send(request, download)
        except FileRefused as refused:
            why = refused.refusal.value
            log.warning("tip=%d attachment %d not fetched: %s", self._tip_id, self._number, why)
            if self.prepared:
                # Cut off mid-way: the connection is dropped, so the browser shows a failed
                # download rather than a short file that looks whole.
                raise ConnectionAbortedError from None
            status, said = _REFUSED[refused.refusal]
            return await self._page(request, status, said)
        finally:
            self._desk.downloads.release()

    async def _send(self, request: web.BaseRequest, download: Download) -> AbstractStreamWriter:
        head = b""
        async for chunk in download.chunks:  # enough of the start to know a picture by
            head += chunk
            if len(head) >= 12:
                break
        picture = _picture(head)
        if picture is not None:
            self.content_type, suffix = picture
            self.headers["Content-Disposition"] = f'inline; filename="{self._name}.{suffix}"'
        else:
            self.content_type = "application/octet-stream"
            suffix = download.suffix if download.suffix in _SAFE_SUFFIXES else "bin"
            self.headers["Content-Disposition"] = f'attachment; filename="{self._name}.{suffix}"'
        self.headers["Content-Security-Policy"] = FILE_POLICY
        if download.size is not None:
            self.content_length = download.size
        writer = await super().prepare(request)
        assert writer is not None
        await self.write(head)
        async for chunk in download.chunks:
            await self.write(chunk)
        return writer

    async def _page(
        self, request: web.BaseRequest, status: int, said: str
    ) -> AbstractStreamWriter | None:
        page = self._desk.problem(self._lang, status, said, code=self._code).text or ""
        body = page.encode()
        self.set_status(status)
        self.content_type, self.charset = "text/html", "utf-8"
        self.content_length = len(body)
        writer = await super().prepare(request)
        await self.write(body)
        return writer


def _picture(head: bytes) -> tuple[str, str] | None:
    """The picture type and extension these first bytes begin, if a browser may show it."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return next(((kind, ext) for magic, kind, ext in _PICTURES if head.startswith(magic)), None)
