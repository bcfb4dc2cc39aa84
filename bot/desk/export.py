"""The export page: the officer's tips of chosen days as the same Excel file /export sends."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.desk.web import DESK, visit_of
from handlers.common.texts import text
from handlers.triage.actions import Acting
from handlers.triage.export import (
    DEFAULT_DAYS,
    MAX_DAYS,
    PeriodRefused,
    export_between,
    export_period,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(app: web.Application) -> None:
    """Serve the export form and the file it posts for."""
    app.router.add_get("/export", export_form, name="export_form")
    app.router.add_post("/export", export_file, name="export_file")


async def export_form(request: web.Request) -> web.Response:
    """The days to export, the last 30 unless changed."""
    visit = visit_of(request)
    start, end = export_period(visit.ctx)
    return _form(request, start.isoformat(), end.isoformat())


async def export_file(request: web.Request) -> web.StreamResponse:
    """The .xlsx of the officer's scope for the days posted, as a download; days that cannot
    be exported are said on the form, and nothing is exported."""
    visit = visit_of(request)
    typed_start, typed_end = visit.form.get("start", ""), visit.form.get("end", "")
    try:
        start, end = export_period(visit.ctx, typed_start, typed_end)
    except PeriodRefused as refused:
        problem = text(visit.lang, refused.said, **refused.values)
        return _form(request, typed_start, typed_end, problem=problem, status=400)
    export = await export_between(
        Acting(visit.db, visit.ctx, visit.user.officer), start, end, visit.lang
    )
    return web.Response(
        body=export.content,
        content_type=XLSX,
        headers={"Content-Disposition": _attachment(export.name)},
    )


def _form(
    request: web.Request, start: str, end: str, *, problem: str = "", status: int = 200
) -> web.Response:
    visit = visit_of(request)
    return request.app[DESK].render(
        visit.lang,
        "export.html",
        status=status,
        user=visit.user,
        notice="",
        start=start[:40],
        end=end[:40],
        problem=problem,
        days=DEFAULT_DAYS,
        most=MAX_DAYS,
    )


def _attachment(name: str) -> str:
    # The plain name for every browser, the exact one (RFC 6266) for those that read it.
    plain = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
