"""The desk's frame: who is asking (one transaction a request), pages, redirects, notices."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import FileSource
from bot.desk.guard import Attempts, Handler, open_notice, seal_notice
from bot.runtime import Runtime
from handlers.common.texts import N_, text
from handlers.common.types import Context
from handlers.triage.desk_actions import Outcome
from handlers.triage.signin import DeskUser, signed_in
from storage.outbox import queued_in

COOKIE = "tipline_desk"
DOWNLOADS_AT_ONCE = 8
ROOT = "/desk"
# The most tips one list action takes: a page and then some, never a whole district by mistake.
MOST_CHOSEN = 100
# Routes served without a session: the sign-in and the static files.
OPEN_ROUTES = frozenset({"sign_in_page", "sign_in", "static"})


@dataclass(frozen=True, slots=True)
class Visit:
    """One request of a signed-in officer: the transaction, the moment, who, and the form."""

    db: AsyncSession
    ctx: Context
    user: DeskUser
    form: Mapping[str, str]
    chosen: tuple[int, ...] = ()  # the tips ticked in a list (a form's repeated "tip" fields)

    @property
    def lang(self) -> str:
        """The officer's language."""
        return self.user.officer.language


class DeskApp:
    """The desk's state in this process: the runtime, the templates, the rate limits."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        secure_cookies: bool,
        files: Mapping[str, FileSource],
        tiles_url: str = "",
    ) -> None:
        self.runtime = runtime
        self.secure_cookies = secure_cookies
        self.tiles_url = tiles_url
        # The platforms the tips' attachments can be fetched from, by channel name.
        self.files = files
        # Attachments streamed at once by this process: each holds a connection to the
        # platform and one to a browser, for up to 20 MB.
        self.downloads = asyncio.Semaphore(DOWNLOADS_AT_ONCE)
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

    def problem(self, lang: str, status: int, said: str, **values: Any) -> web.Response:
        """A short page saying what went wrong and what to do."""
        return self.render(lang, "problem.html", status=status, said=said, values=values, user=None)


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
        chosen: tuple[int, ...] = ()
        if request.method == "POST":
            posted = await request.post()
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
            if not user.form_token_matches(form.get("form_token", "")):
                return desk.problem(user.officer.language, 403, N_("desk.stale_form"))
            ticked = (v for v in posted.getall("tip", []) if isinstance(v, str))
            chosen = tuple(dict.fromkeys(number(v, default=0) for v in ticked))[:MOST_CHOSEN]
        request[VISIT] = Visit(db, ctx, user, form, chosen)
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


def sealed(visit: Visit, outcome: Outcome) -> str:
    return urlencode({"said": seal_notice(visit.user.form_token, outcome.said, outcome.values)})


def notice(request: web.Request, visit: Visit) -> str:
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


def number(value: str, default: int = 1) -> int:
    return int(value) if value.isdigit() and len(value) < 10 else default
