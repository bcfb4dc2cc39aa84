"""The admins' audit page: the audit log, newest first, filtered as the address says."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.desk.web import DESK, visit_of
from handlers.triage.audit_log import OPERATOR, AuditQuery, audit_page


def routes(app: web.Application) -> None:
    """Serve the audit page."""
    app.router.add_get("/audit", audit, name="audit")


async def audit(request: web.Request) -> web.Response:
    """The audit log for an admin; to anyone else, no such page."""
    visit = visit_of(request)
    if not visit.user.officer.is_admin:
        raise web.HTTPNotFound()
    query = AuditQuery.from_address(request.query)
    page = await audit_page(visit.db, visit.ctx, visit.user.officer, query)
    return request.app[DESK].render(
        visit.lang,
        "audit.html",
        user=visit.user,
        notice="",
        page=page,
        query=query,
        operator=OPERATOR,
        page_link=lambda number: f"?{urlencode(query.address(number))}",
    )
