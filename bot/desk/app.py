"""The desk's web application: sign-in by link, the queue, a tip's page, its actions.

Each request is one transaction (the officer's session, what they read, what they did and its
audit rows commit together); the session, the form token and the tip's scope are checked on
every request, never remembered from an earlier one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.guard import Attempts, Handler, open_notice, seal_notice, security_headers
from bot.runtime import Runtime
from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.texts import N_, text
from handlers.common.types import Context
from handlers.triage.actions import Acting
from handlers.triage.desk_actions import STATUSES, Outcome, act
from handlers.triage.pages import get_visible_tip, queue_page, tip_page
from handlers.triage.queue import LISTS, next_tip_id
from handlers.triage.signin import DeskUser, sign_in, sign_out, signed_in
from storage.audit import add_audit
from storage.outbox import queued_in

log = logging.getLogger("tipline.desk")

COOKIE = "tipline_desk"
ROOT = "/desk"
# Routes served without a session: the sign-in and the static files.
OPEN_ROUTES = frozenset({"sign_in_page", "sign_in", "static"})


@dataclass(frozen=True, slots=True)
class Visit:
    """One request of a signed-in officer: the transaction, the moment, who, and the form."""

    db: AsyncSession
    ctx: Context
    user: DeskUser
    form: Mapping[str, str]

    @property
    def lang(self) -> str:
        """The officer's language."""
        return self.user.officer.language


class DeskApp:
    """The desk's state in this process: the runtime, the templates, the rate limits."""

    def __init__(self, runtime: Runtime, *, secure_cookies: bool) -> None:
        self.runtime = runtime
        self.secure_cookies = secure_cookies
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.desk", "templates"),
            autoescape=True,  # every value, tip text above all, is escaped
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Per address: link tries, and requests whose cookie opened no session.
        self.sign_ins = Attempts(limit=10, window=60)
        self.strangers = Attempts(limit=30, window=60)

    def render(self, lang: str, name: str, status: int = 200, **values: Any) -> web.Response:
        """A page from its template, in the reader's language."""

        def t(key: str, **fill: Any) -> str:
            return text(lang, key, **fill)

        page = self.templates.get_template(name).render(lang=lang, t=t, **values)
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")

    def problem(self, lang: str, status: int, said: str) -> web.Response:
        """A short page saying what went wrong and what to do."""
        return self.render(lang, "problem.html", status=status, said=said, user=None)


DESK = web.AppKey("desk", DeskApp)
VISIT = web.RequestKey("visit", Visit)


def browser_language(request: web.Request) -> str:
    """Vietnamese, unless the browser asks for English first."""
    wanted = request.headers.get("Accept-Language", "").lower()
    return "en" if wanted.startswith("en") else "vi"


def address(request: web.Request) -> str:
    """Who is asking, for the rate limits (the proxy's address when behind one)."""
    return request.remote or "?"


@web.middleware
async def signed_in_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Open the request's transaction, find its officer and check its form token; a request
    without a session is sent to sign in again, one without the token is refused."""
    route = request.match_info.route.name
    if route in OPEN_ROUTES:
        return await handler(request)
    desk = request.app[DESK]
    lang = browser_language(request)
    async with desk.runtime.db.transaction() as db:
        ctx = desk.runtime.context()
        user = await signed_in(db, ctx, request.cookies.get(COOKIE, ""))
        if user is None:
            allowed = desk.strangers.allow(address(request))
            said = N_("desk.signed_out") if allowed else N_("desk.too_many")
            return desk.problem(lang, 401 if allowed else 429, said)
        form: Mapping[str, str] = {}
        if request.method == "POST":
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            if not user.form_token_matches(form.get("form_token", "")):
                return desk.problem(user.officer.language, 403, N_("desk.stale_form"))
        request[VISIT] = Visit(db, ctx, user, form)
        response = await handler(request)
        queued = queued_in(db)
    if queued:
        desk.runtime.outbox_ready.set()
    return response


def visit_of(request: web.Request) -> Visit:
    """The signed-in officer's visit the middleware opened for this request."""
    return request[VISIT]


def redirect(location: str) -> web.Response:
    """See the page there (after a form: a reload does not post it again)."""
    return web.Response(status=303, headers={"Location": location})


# --- signing in and out ---


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


# --- the queue and a tip ---


async def queue(request: web.Request) -> web.Response:
    """The queue, as its filters (kept in the address) choose."""
    desk, visit = request.app[DESK], visit_of(request)
    which = request.query.get("which", "open")
    which = which if which in LISTS else "open"
    page_number = _number(request.query.get("page", "1")) - 1
    page = await queue_page(visit.db, visit.ctx, visit.user.officer, which=which, page=page_number)
    await add_audit(
        visit.db,
        officer_id=visit.user.officer.id,
        action="desk_queue",
        now=visit.ctx.now,
        detail=which,
    )
    return desk.render(
        visit.lang,
        "queue.html",
        user=visit.user,
        page=page,
        which=which,
        lists=LISTS,
        notice=_notice(request, visit),
        page_link=lambda number: f"?{urlencode({'which': which, 'page': number})}",
    )


async def tip(request: web.Request) -> web.Response:
    """One tip in full, with its actions; a tip outside the officer's scope does not exist."""
    desk, visit = request.app[DESK], visit_of(request)
    found = await get_visible_tip(visit.db, visit.ctx, visit.user.officer, _tip_id(request))
    if found is None:
        return desk.problem(visit.lang, 404, N_("desk.no_tip"))
    return desk.render(
        visit.lang,
        "tip.html",
        user=visit.user,
        tip=await tip_page(visit.db, visit.ctx, visit.user.officer, found),
        statuses=[(s.value, text(visit.lang, STATUS_NAMES[s])) for s in STATUSES],
        notice=_notice(request, visit),
    )


async def tip_action(request: web.Request) -> web.Response:
    """An action posted on a tip's page: done and shown on the page, or a question first."""
    desk, visit = request.app[DESK], visit_of(request)
    officer = visit.user.officer
    found = await get_visible_tip(visit.db, visit.ctx, officer, _tip_id(request))
    if found is None:
        return desk.problem(visit.lang, 404, N_("desk.no_tip"))
    outcome = await act(Acting(visit.db, visit.ctx, officer), found, visit.form)
    if outcome.confirm:
        fields = {k: v for k, v in visit.form.items() if k != "form_token"}
        return desk.render(
            visit.lang,
            "confirm.html",
            user=visit.user,
            question=outcome.message(visit.lang),
            tip_id=found.id,
            code=show_code(found.code),
            fields=fields,
        )
    return redirect(f"{ROOT}/tip/{found.id}?{_sealed(visit, outcome)}")


async def next_tip(request: web.Request) -> web.Response:
    """The open tip after this one in the queue, from where this one stood before the action."""
    visit = visit_of(request)
    officer = visit.user.officer
    found = await get_visible_tip(visit.db, visit.ctx, officer, _tip_id(request))
    if found is None:
        return request.app[DESK].problem(visit.lang, 404, N_("desk.no_tip"))
    stood = _number(request.query.get("stood", "3"), default=3)
    following = await next_tip_id(visit.db, visit.ctx, officer, found, stood)
    if following is None:
        ended = Outcome(N_("desk.queue_end"), {"code": show_code(found.code)})
        return redirect(f"{ROOT}/?{_sealed(visit, ended)}")
    return redirect(f"{ROOT}/tip/{following}")


def _sealed(visit: Visit, outcome: Outcome) -> str:
    return urlencode({"said": seal_notice(visit.user.form_token, outcome.said, outcome.values)})


def _notice(request: web.Request, visit: Visit) -> str:
    """The result of the action that led here, if the address carries one signed for this
    session."""
    opened = open_notice(visit.user.form_token, request.query.get("said", ""))
    if opened is None:
        return ""
    said, values = opened
    try:
        return text(visit.lang, said, **values)
    except (KeyError, IndexError, ValueError):
        return ""


def _tip_id(request: web.Request) -> int:
    return _number(request.match_info["tip_id"], default=0)


def _number(value: str, default: int = 1) -> int:
    return int(value) if value.isdigit() and len(value) < 10 else default


def desk_app(runtime: Runtime, *, secure_cookies: bool) -> web.Application:
    """The desk as an aiohttp application, to be mounted at /desk."""
    app = web.Application(middlewares=[security_headers, signed_in_only], client_max_size=64 * 1024)
    app[DESK] = DeskApp(runtime, secure_cookies=secure_cookies)
    static = resources.files("bot.desk") / "static"
    app.router.add_get("/in/{token}", sign_in_page, name="sign_in_page")
    app.router.add_post("/in", sign_in_post, name="sign_in")
    app.router.add_post("/out", sign_out_post, name="sign_out")
    app.router.add_get("/", queue, name="queue")
    app.router.add_get("/tip/{tip_id}", tip, name="tip")
    app.router.add_post("/tip/{tip_id}", tip_action, name="tip_action")
    app.router.add_get("/tip/{tip_id}/next", next_tip, name="next_tip")
    app.router.add_static("/static", str(static), name="static")
    return app


def mount_desk(app: web.Application, runtime: Runtime, *, public_url: str) -> None:
    """Serve the desk at /desk on this server; its links start with `public_url`."""
    runtime.desk_url = public_url.rstrip("/")
    secure = public_url.startswith("https://")
    if not secure:
        log.warning("the desk is served without HTTPS at %s: for this computer only", public_url)
    app.add_subapp(ROOT, desk_app(runtime, secure_cookies=secure))
