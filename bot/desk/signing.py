"""Signing in to the desk with the bot's one-time link, and out."""

from __future__ import annotations

from aiohttp import web

from bot.desk.web import COOKIE, DESK, ROOT, address, browser_language, redirect, visit_of
from handlers.common.texts import N_
from handlers.triage.signin import sign_in, sign_out


async def sign_in_page(request: web.Request) -> web.Response:
    """The link from the bot: a button that signs in (a link preview fetching the page spends
    nothing; only the button's post does)."""
    desk = request.app[DESK]
    token = request.match_info["token"]
    return desk.render(browser_language(request), "sign_in.html", token=token, user=None)


async def sign_in_post(request: web.Request) -> web.Response:
    """Spend the link and start a session in this browser, or say why not."""
    desk = request.app[DESK]
    lang = browser_language(request)
    if not desk.sign_ins.allow(address(request)):
        return desk.problem(lang, 429, N_("desk.too_many"))
    token = str((await request.post()).get("token", ""))
    async with desk.runtime.db.transaction() as db:
        started = await sign_in(db, desk.runtime.context(), token)
    if started is None:
        return desk.problem(lang, 400, N_("desk.link_refused"))
    cookie, _ = started
    response = redirect(f"{ROOT}/")
    response.set_cookie(
        COOKIE,
        cookie,
        path=ROOT,
        httponly=True,
        samesite="Strict",
        secure=desk.secure_cookies,
    )
    return response


async def sign_out_post(request: web.Request) -> web.Response:
    """End this browser's session."""
    desk, visit = request.app[DESK], visit_of(request)
    await sign_out(visit.db, visit.ctx, visit.user)
    response = desk.problem(visit.lang, 200, N_("desk.signed_off"))
    response.del_cookie(COOKIE, path=ROOT)
    return response
