"""The queue, a tip's page, and the actions posted on it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from aiohttp import web

from bot.desk.drawing import MapDrawing, map_drawing, pin_box
from bot.desk.files import shown_files
from bot.desk.web import DESK, ROOT, DeskApp, Visit, notice, number, redirect, sealed, visit_of
from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.texts import N_, text
from handlers.triage.actions import Acting
from handlers.triage.desk_actions import STATUSES, Outcome, act, act_on_list
from handlers.triage.listing import DAYS, STATUS_LABELS, Listing, units_to_choose
from handlers.triage.pages import TipPage, get_visible_tip, queue_page, tip_page, undo_left
from handlers.triage.queue import next_tip_id
from storage.audit import add_audit
from storage.overview import Cluster

PIN_MAP_WIDEST = 480  # pixels across at most; the page scales it to the screen

# What the list's address may hold.
QUEUE_FILTERS = tuple(Listing.__dataclass_fields__)


async def queue(request: web.Request) -> web.Response:
    """The queue, as its filters (kept in the address) choose."""
    desk, visit = request.app[DESK], visit_of(request)
    officer = visit.user.officer
    listing = Listing.read(request.query, visit.ctx, officer)
    page = await queue_page(visit.db, visit.ctx, officer, listing)
    undo_ids = [number(i, default=0) for i in request.query.get("undo", "").split(",")[:100]]
    undoable = [
        found
        for tip_id in undo_ids
        if (found := await get_visible_tip(visit.db, visit.ctx, officer, tip_id)) is not None
    ]
    await add_audit(
        visit.db,
        officer_id=visit.user.officer.id,
        action="desk_queue",
        now=visit.ctx.now,
        detail=urlencode(listing.address()),
    )
    return desk.render(
        visit.lang,
        "queue.html",
        user=visit.user,
        page=page,
        listing=listing,
        statuses=[(key, text(visit.lang, label)) for key, label in STATUS_LABELS.items()],
        categories=[(c.code, c.name(visit.lang)) for c in visit.ctx.catalog.categories],
        units=units_to_choose(visit.ctx, officer),
        days=DAYS,
        notice=notice(request, visit),
        page_link=lambda number: f"?{urlencode(listing.address(page=number))}",
        here=urlencode(listing.address()),
        undo_tips=[t.id for t in undoable],
        undo_seconds=await undo_left(Acting(visit.db, visit.ctx, officer), undoable),
    )


async def tip(request: web.Request) -> web.Response:
    """One tip in full, with its actions; a tip outside the officer's scope does not exist."""
    desk, visit = request.app[DESK], visit_of(request)
    found = await get_visible_tip(visit.db, visit.ctx, visit.user.officer, _tip_id(request))
    if found is None:
        return desk.problem(visit.lang, 404, N_("desk.no_tip"))
    page = await tip_page(visit.db, visit.ctx, visit.user.officer, found)
    return desk.render(
        visit.lang,
        "tip.html",
        user=visit.user,
        tip=page,
        files=shown_files(desk, page),
        pin_map=_pin_map(page, desk.tiles_url),
        statuses=[(s.value, text(visit.lang, STATUS_NAMES[s])) for s in STATUSES],
        notice=notice(request, visit),
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
        return _confirmation(desk, visit, outcome, f"{ROOT}/tip/{found.id}")
    return redirect(f"{ROOT}/tip/{found.id}?{sealed(visit, outcome)}")


def _confirmation(
    desk: DeskApp, visit: Visit, outcome: Outcome, action: str, chosen: list[int] | None = None
) -> web.Response:
    """The question before telling tipsters: yes posts the same form again, confirmed; no goes
    back where the officer came from, changing nothing."""
    fields = {k: v for k, v in visit.form.items() if k != "form_token"}
    back = f"{ROOT}/?{urlencode(_queue_address(fields.get('back', '')))}" if chosen else action
    return desk.render(
        visit.lang,
        "confirm.html",
        user=visit.user,
        question=outcome.message(visit.lang),
        action=action,
        fields=fields,
        chosen=chosen or [],
        back=back,
    )


def _queue_address(query: str) -> dict[str, str]:
    """The list's own filters out of an address's query (anything else is dropped)."""
    kept = parse_qs(query, max_num_fields=20)
    return {key: values[0] for key, values in kept.items() if key in QUEUE_FILTERS and values}


async def bulk_action(request: web.Request) -> web.Response:
    """One action on the ticked tips of a list: done, or a question first; back to the list."""
    desk, visit = request.app[DESK], visit_of(request)
    officer = visit.user.officer
    tips = [
        found
        for tip_id in visit.chosen
        if (found := await get_visible_tip(visit.db, visit.ctx, officer, tip_id)) is not None
    ]
    outcome = await act_on_list(Acting(visit.db, visit.ctx, officer), tips, visit.form)
    if outcome.confirm:
        return _confirmation(desk, visit, outcome, "/desk/bulk", chosen=[t.id for t in tips])
    back = _queue_address(visit.form.get("back", ""))
    undo = {"undo": ",".join(str(t.id) for t in tips)} if outcome.undo else {}
    return redirect(f"{ROOT}/?{urlencode({**back, **undo})}&{sealed(visit, outcome)}")


async def next_tip(request: web.Request) -> web.Response:
    """The open tip after this one in the queue, from where this one stood before the action."""
    visit = visit_of(request)
    officer = visit.user.officer
    found = await get_visible_tip(visit.db, visit.ctx, officer, _tip_id(request))
    if found is None:
        return request.app[DESK].problem(visit.lang, 404, N_("desk.no_tip"))
    stood = number(request.query.get("stood", "3"), default=3)
    following = await next_tip_id(visit.db, visit.ctx, officer, found, stood)
    if following is None:
        ended = Outcome(N_("desk.queue_end"), {"code": show_code(found.code)})
        return redirect(f"{ROOT}/?{sealed(visit, ended)}")
    return redirect(f"{ROOT}/tip/{following}")


def _pin_map(page: TipPage, tiles_url: str) -> MapDrawing | None:
    """The tip's pin on a small map of its area, when it has a pin and the map an extent."""
    if page.latitude is None or page.longitude is None or page.box is None:
        return None
    box = pin_box(page.box, page.latitude, page.longitude)
    pin = Cluster(0, 0, 1, page.latitude, page.longitude)
    return map_drawing(box, [pin], widest=PIN_MAP_WIDEST, tiles_url=tiles_url)


def _tip_id(request: web.Request) -> int:
    return number(request.match_info["tip_id"], default=0)
