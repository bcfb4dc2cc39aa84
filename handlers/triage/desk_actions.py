"""A form posted on the desk's tip page, turned into the same domain actions the chat calls.

Each action is re-checked here (the tip's scope, the assignee's, the duplicate's); one that
tells the tipster asks first (`Outcome.confirm`), and a status change can be undone for
UNDO_TIME, its notice to the tipster held until then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.common.codes import parse_code, show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import may_see
from handlers.common.texts import N_, text
from handlers.common.tip_text import THREAD_TEXT_CHARS
from handlers.triage.actions import (
    Acting,
    acknowledge,
    add_internal_note,
    add_public_note,
    ask_tipster,
    assign,
    close_as_duplicate,
    set_status,
    tells_tipster,
    undo,
)
from storage.models import Tip, TipStatus
from storage.officers import get_officer
from storage.tips import get_tip

NOTE_CHARS = 1000
# The statuses the desk's status form sets; the closings need a reason.
STATUSES = (
    TipStatus.VERIFYING,
    TipStatus.HANDLED,
    TipStatus.CLOSED_UNFOUNDED,
    TipStatus.CLOSED_SPAM,
)
NEEDS_REASON = (TipStatus.CLOSED_UNFOUNDED, TipStatus.CLOSED_SPAM)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did, as a catalogue message, and what the page offers next."""

    said: str
    values: dict[str, Any] = field(default_factory=dict)
    done: bool = True  # False: nothing changed (refused, or waiting for a yes)
    confirm: bool = False  # the tipster would be told: the officer is asked first
    undo: bool = False  # a change that can be taken back for a while

    def message(self, lang: str) -> str:
        """What happened, in the officer's language."""
        return text(lang, self.said, **self.values)


Action = Callable[[Acting, Tip, Mapping[str, str]], Awaitable[Outcome]]


async def act(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    """Apply the posted action to the tip (in scope: the caller checked), or say why not."""
    action = ACTIONS.get(form.get("action", ""))
    if action is None:
        return Outcome(N_("desk.unknown_action"), done=False)
    return await action(acting, tip, form)


def _typed(form: Mapping[str, str], name: str, limit: int = NOTE_CHARS) -> str:
    return form.get(name, "").strip()[:limit]


async def _asks_first(acting: Acting, tip: Tip, form: Mapping[str, str]) -> bool:
    return form.get("confirmed") != "1" and await tells_tipster(acting, tip)


async def _status(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    code = show_code(tip.code)
    wanted = next((s for s in STATUSES if s.value == form.get("status")), None)
    if wanted is None:
        return Outcome(N_("desk.unknown_action"), done=False)
    if tip.status is wanted:
        return Outcome(N_("status.same"), {"code": code}, done=False)
    reason = _typed(form, "note")
    if wanted in NEEDS_REASON and not reason:
        return Outcome(N_("desk.need_reason"), {"code": code}, done=False)
    status = text(acting.officer.language, STATUS_NAMES[wanted])
    if await _asks_first(acting, tip, form):
        return Outcome(N_("desk.confirm_status"), {"code": code, "status": status}, confirm=True)
    await set_status(acting, tip, wanted, note=reason or None, undoable=True)
    return Outcome(N_("status.changed"), {"code": code, "status": status}, undo=True)


async def _duplicate(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    code = show_code(tip.code)
    typed = parse_code(form.get("original", ""))
    original = await get_tip(acting.db, typed) if typed else None
    if original is None or not may_see(acting.ctx, acting.officer, original):
        shown = show_code(typed) if typed else form.get("original", "")[:20]
        return Outcome(N_("tip.not_found"), {"code": shown}, done=False)
    if await _asks_first(acting, tip, form):
        status = text(acting.officer.language, STATUS_NAMES[TipStatus.CLOSED_DUPLICATE])
        return Outcome(N_("desk.confirm_status"), {"code": code, "status": status}, confirm=True)
    first = await close_as_duplicate(acting, tip, original, undoable=True)
    if first is None:
        return Outcome(N_("desk.duplicate_self"), {"code": code}, done=False)
    return Outcome(
        N_("duplicate.done"), {"code": code, "original": show_code(first.code)}, undo=True
    )


UNDONE = {
    "status": N_("desk.undone"),
    "public_note": N_("desk.undone_note"),
    "question": N_("desk.undone_question"),
}


async def _undo(acting: Acting, tip: Tip, _: Mapping[str, str]) -> Outcome:
    code = show_code(tip.code)
    thing = await undo(acting, tip)
    if thing is None:
        return Outcome(N_("desk.undo_late"), {"code": code}, done=False)
    status = text(acting.officer.language, STATUS_NAMES[tip.status])
    return Outcome(UNDONE[thing.kind], {"code": code, "status": status})


async def _public_note(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    note, code = _typed(form, "note"), show_code(tip.code)
    if not note:
        return Outcome(N_("desk.need_text"), done=False)
    if await _asks_first(acting, tip, form):
        return Outcome(N_("desk.confirm_note"), {"code": code}, confirm=True)
    await add_public_note(acting, tip, note, undoable=True)
    return Outcome(N_("public_note.added"), {"code": code}, undo=True)


async def _internal_note(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    note = _typed(form, "note")
    if not note:
        return Outcome(N_("desk.need_text"), done=False)
    await add_internal_note(acting, tip, note)
    return Outcome(N_("internal_note.added"), {"code": show_code(tip.code)})


async def _ask(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    question, code = _typed(form, "question", THREAD_TEXT_CHARS), show_code(tip.code)
    if not question:
        return Outcome(N_("desk.need_text"), done=False)
    if await _asks_first(acting, tip, form):
        return Outcome(N_("desk.confirm_question"), {"code": code}, confirm=True)
    relayed = await ask_tipster(acting, tip, question, undoable=True)
    said = N_("question.relayed") if relayed else N_("question.waiting")
    return Outcome(said, {"code": code}, undo=True)


async def _assign(acting: Acting, tip: Tip, form: Mapping[str, str]) -> Outcome:
    chosen = form.get("officer", "")
    assignee = await get_officer(acting.db, int(chosen)) if chosen.isdigit() else None
    if assignee is None or assignee.revoked_at is not None:
        return Outcome(N_("desk.assign_refused"), done=False)
    if not await assign(acting, tip, assignee):
        return Outcome(N_("desk.assign_refused"), done=False)
    return Outcome(N_("assign.done"), {"code": show_code(tip.code), "name": assignee.name})


async def _acknowledge(acting: Acting, tip: Tip, _: Mapping[str, str]) -> Outcome:
    code = show_code(tip.code)
    if not await acknowledge(acting, tip):
        return Outcome(N_("desk.ack_already"), {"code": code}, done=False)
    return Outcome(N_("ack.done"), {"code": code})


ACTIONS: dict[str, Action] = {
    "status": _status,
    "duplicate": _duplicate,
    "undo": _undo,
    "public_note": _public_note,
    "internal_note": _internal_note,
    "ask": _ask,
    "assign": _assign,
    "acknowledge": _acknowledge,
}


# What a ticked list can do at once: close with one reason, close as duplicates of one tip,
# give to one officer, or take back what it just did.
CLOSING_MANY = {
    TipStatus.CLOSED_SPAM.value: TipStatus.CLOSED_SPAM,
    TipStatus.CLOSED_UNFOUNDED.value: TipStatus.CLOSED_UNFOUNDED,
}


async def act_on_list(acting: Acting, tips: list[Tip], form: Mapping[str, str]) -> Outcome:
    """Apply one action to every ticked tip in scope (the caller dropped the others)."""
    if not tips:
        return Outcome(N_("desk.bulk.none"), done=False)
    what = form.get("bulk", "")
    if what in CLOSING_MANY:
        return await _close_many(acting, tips, CLOSING_MANY[what], form)
    if what == "duplicate":
        return await _duplicates(acting, tips, form)
    if what == "assign":
        return await _assign_many(acting, tips, form)
    if what == "undo":
        undone = [tip for tip in tips if await undo(acting, tip) is not None]
        return Outcome(N_("desk.bulk.undone"), {"count": len(undone)}, done=bool(undone))
    return Outcome(N_("desk.unknown_action"), done=False)


async def _told_of(acting: Acting, tips: list[Tip], form: Mapping[str, str]) -> Outcome | None:
    """The question before changing tips whose tipsters would be told, unless answered."""
    if form.get("confirmed") == "1":
        return None
    told = [tip for tip in tips if await tells_tipster(acting, tip)]
    if not told:
        return None
    return Outcome(N_("desk.bulk.confirm"), {"count": len(tips), "told": len(told)}, confirm=True)


async def _close_many(
    acting: Acting, tips: list[Tip], status: TipStatus, form: Mapping[str, str]
) -> Outcome:
    reason = _typed(form, "note")
    if not reason:
        return Outcome(N_("desk.bulk.need_reason"), done=False)
    asking = await _told_of(acting, tips, form)
    if asking is not None:
        return asking
    changed = [t for t in tips if await set_status(acting, t, status, note=reason, undoable=True)]
    name = text(acting.officer.language, STATUS_NAMES[status])
    return Outcome(N_("desk.bulk.closed"), {"count": len(changed), "status": name}, undo=True)


async def _duplicates(acting: Acting, tips: list[Tip], form: Mapping[str, str]) -> Outcome:
    typed = parse_code(form.get("original", ""))
    original = await get_tip(acting.db, typed) if typed else None
    if original is None or not may_see(acting.ctx, acting.officer, original):
        shown = show_code(typed) if typed else form.get("original", "")[:20]
        return Outcome(N_("tip.not_found"), {"code": shown}, done=False)
    asking = await _told_of(acting, tips, form)
    if asking is not None:
        return asking
    linked = [t for t in tips if await close_as_duplicate(acting, t, original, undoable=True)]
    values = {"count": len(linked), "original": show_code(original.code)}
    return Outcome(N_("desk.bulk.duplicates"), values, undo=True)


async def _assign_many(acting: Acting, tips: list[Tip], form: Mapping[str, str]) -> Outcome:
    chosen = form.get("officer", "")
    assignee = await get_officer(acting.db, int(chosen)) if chosen.isdigit() else None
    if assignee is None or assignee.revoked_at is not None:
        return Outcome(N_("desk.assign_refused"), done=False)
    given = [tip for tip in tips if await assign(acting, tip, assignee)]
    values = {"count": len(given), "name": assignee.name, "refused": len(tips) - len(given)}
    return Outcome(N_("desk.bulk.assigned"), values, done=bool(given))
