"""The desk's web application: sign-in by link, the queue, a tip's page, its actions.

Each request is one transaction (the officer's session, what they read, what they did and its
audit rows commit together); the session, the form token and the tip's scope are checked on
every request, never remembered from an earlier one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import resources

from aiohttp import web

from bot.channels.base import FileSource
from bot.desk import audit, export
from bot.desk import files as desk_files
from bot.desk.guard import security_headers
from bot.desk.overview import overview_routes
from bot.desk.signing import sign_in_page, sign_in_post, sign_out_post
from bot.desk.tips import bulk_action, next_tip, queue, tip, tip_action
from bot.desk.web import DESK, ROOT, DeskApp, signed_in_only
from bot.runtime import Runtime

log = logging.getLogger("tipline.desk")


def desk_app(
    runtime: Runtime,
    *,
    secure_cookies: bool,
    files: Mapping[str, FileSource],
    tiles_url: str = "",
) -> web.Application:
    """The desk as an aiohttp application, to be mounted at /desk."""
    app = web.Application(
        middlewares=[security_headers(tiles_url), signed_in_only], client_max_size=64 * 1024
    )
    app[DESK] = DeskApp(runtime, secure_cookies=secure_cookies, files=files, tiles_url=tiles_url)
    static = resources.files("bot.desk") / "static"
    app.router.add_get("/in/{token}", sign_in_page, name="sign_in_page")
    app.router.add_post("/in", sign_in_post, name="sign_in")
    app.router.add_post("/out", sign_out_post, name="sign_out")
    app.router.add_get("/", queue, name="queue")
    app.router.add_get("/tip/{tip_id}", tip, name="tip")
    app.router.add_post("/tip/{tip_id}", tip_action, name="tip_action")
    app.router.add_get("/tip/{tip_id}/next", next_tip, name="next_tip")
    app.router.add_post("/bulk", bulk_action, name="bulk")
    export.routes(app)
    audit.routes(app)
    desk_files.routes(app)
    overview_routes(app)
    app.router.add_static("/static", str(static), name="static")
    return app


def mount_desk(
    app: web.Application,
    runtime: Runtime,
    *,
    public_url: str,
    files: Mapping[str, FileSource] | None = None,
    tiles_url: str = "",
) -> None:
    """Serve the desk at /desk on this server; its links start with `public_url`; the tips'
    attachments come from `files`, the running platforms that can hand them over (by channel),
    and its maps lie over tiles from `tiles_url` when one is given."""
    runtime.desk_url = public_url.rstrip("/")
    secure = public_url.startswith("https://")
    if not secure:
        log.warning("the desk is served without HTTPS at %s: for this computer only", public_url)
    desk = desk_app(runtime, secure_cookies=secure, files=files or {}, tiles_url=tiles_url)
    app.add_subapp(ROOT, desk)
