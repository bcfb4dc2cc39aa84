"""The overview page: a scope's week (or month, or quarter) at a glance, with its pictures."""

from __future__ import annotations

from aiohttp import web

from bot.desk.drawing import chart_drawing, map_drawing
from bot.desk.web import DESK, visit_of
from handlers.triage.overview import PERIODS, overview_page

MAP_WIDEST = 720  # pixels across at most, before the page scales it to the screen


async def overview(request: web.Request) -> web.Response:
    """The overview of the officer's scope over `?days=7|30|90` (7 unless one of those)."""
    desk, visit = request.app[DESK], visit_of(request)
    asked = request.query.get("days", "")
    days = int(asked) if asked in {str(p) for p in PERIODS} else PERIODS[0]
    page = await overview_page(visit.db, visit.ctx, visit.user.officer, days)
    drawn_map = None
    if page.box is not None and page.pins is not None:
        drawn_map = map_drawing(
            page.box, page.pins.clusters, widest=MAP_WIDEST, tiles_url=desk.tiles_url
        )
    return desk.render(
        visit.lang,
        "overview.html",
        user=visit.user,
        notice="",
        page=page,
        periods=PERIODS,
        chart=chart_drawing(page.chart),
        drawn_map=drawn_map,
    )


def overview_routes(app: web.Application) -> None:
    """Serve the overview at /desk/overview."""
    app.router.add_get("/overview", overview, name="overview")
