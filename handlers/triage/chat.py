"""Officers at work: one tip in full, and the buttons that move it along."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from handlers.common.codes import parse_code, show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import may_see, top_only_mark
from handlers.common.texts import N_
from handlers.common.tip_text import when_label
from handlers.common.types import Kind, Media, MediaKind, Option, Reply
from handlers.conversation.buttons import (
    Acknowledge,
    AskTipster,
    AssignTo,
    Button,
    ChooseAssignee,
    CloseTip,
    ConfirmStatus,
    InternalNote,
    KeepStatus,
    NextTip,
    OpenTip,
    PublicNote,
    SetStatus,
    TipButton,
    TipList,
)
from handlers.conversation.turn import StepName, Turn, back_to_draft
from handlers.triage.actions import (
    acknowledge,
    acting_of,
    add_internal_note,
    add_public_note,
    assign,
    close_as_duplicate,
    set_status,
    tells_tipster,
)
from handlers.triage.asking import ask_question
from handlers.triage.queue import (
    LISTS,
    category_and_area,
    next_option,
    next_tip_id,
    queue_end,
    tip_list,
    way_on,
)
from storage.models import ThreadRole, Tip, TipEvent, TipStatus
from storage.officers import get_officer, list_officers
from storage.thread import list_thread, mark_answers_read
from storage.tips import (
    get_contact,
    get_tip,
    get_tip_by_id,
)

# The statuses one tap sets, and those that close the tip with a reason (or the first tip's
# code): each with its button, in the order the buttons always stand.
SETTING = {
    TipStatus.VERIFYING: N_("button.verifying"),
    TipStatus.HANDLED: N_("button.handled"),
}
CLOSING = {
    TipStatus.CLOSED_UNFOUNDED: N_("button.closed_unfounded"),
    TipStatus.CLOSED_DUPLICATE: N_("button.closed_duplicate"),
    TipStatus.CLOSED_SPAM: N_("button.closed_spam"),
}
NOTE_CHARS = 1000


def _when(turn: Turn, moment: datetime | None) -> str:
    return turn.ctx.local(moment) if moment else "–"


async def view_command(turn: Turn) -> list[Reply]:
    """/tip CODE for an officer: the whole tip, if it is in their scope."""
    code = parse_code(turn.msg.args)
    tip = await get_tip(turn.db, code) if code else None
    if not may_see(turn.ctx, turn.officer, tip):
        return [turn.say("tip.not_found", code=turn.msg.args.strip()[:20])]
    assert tip is not None
    return await tip_view(turn, tip)


async def tip_view(turn: Turn, tip: Tip) -> list[Reply]:
    """Everything about one tip, its attachments re-sent by reference, and the action buttons."""
    assert turn.officer is not None
    await acting_of(turn).audit("view", tip)
    await mark_answers_read(turn.db, tip.id, now=turn.ctx.now)
    lines = [
        turn.t(
            "view.head",
            code=show_code(tip.code),
            urgent=turn.t("view.urgent") if tip.urgent else "",
        )
    ]
    lines.append(await _fields(turn, tip))
    actions = _actions(turn, tip)
    original = await get_tip_by_id(turn.db, tip.duplicate_of_id) if tip.duplicate_of_id else None
    # A higher officer may link a tip to one kept from this officer: its code stays unsaid.
    if original is not None and may_see(turn.ctx, turn.officer, original):
        shown = show_code(original.code)
        lines.append(turn.t("view.duplicate_of", code=shown))
        open_original = turn.t("button.open_original", code=shown)
        actions = (*actions, Option(open_original, OpenTip(original.id).pack()))
    lines += ["", turn.t("view.text"), tip.description]
    if tip.attachments:
        lines += ["", turn.t("view.files", count=len(tip.attachments))]
    lines += ["", turn.t("view.history"), *[_event_line(turn, event) for event in tip.events]]
    thread = await _thread_lines(turn, tip)
    if thread:
        lines += ["", turn.t("view.thread"), *thread]
    media = tuple(Media(MediaKind(a.kind), a.ref) for a in tip.attachments)
    return [Reply("\n".join(lines), actions, columns=2, media=media)]


async def _fields(turn: Turn, tip: Tip) -> str:
    category, area = category_and_area(turn, tip)
    place = ", ".join(
        part
        for part in (
            tip.place or "",
            f"📍 {tip.latitude:.5f}, {tip.longitude:.5f}" if tip.latitude is not None else "",
        )
        if part
    )
    assigned = await _officer_name(turn, tip.assigned_officer_id)
    acked = await _officer_name(turn, tip.acknowledged_by_id)
    contact = await get_contact(turn.db, tip.id)
    return turn.t(
        "view.fields",
        category=category,
        area=area,
        top_only=top_only_mark(turn.ctx, turn.lang, tip),
        place=place or turn.t("place.none"),
        when=turn.t(when_label(tip.occurred)),
        sent=_when(turn, tip.created_at),
        status=turn.t(STATUS_NAMES[tip.status]),
        status_at=_when(turn, tip.status_at),
        assigned=assigned,
        ack=f"{acked} ({_when(turn, tip.acknowledged_at)})" if tip.acknowledged_at else acked,
        contact=turn.t("view.contact_yes") if contact else turn.t("view.contact_no"),
    )


async def _officer_name(turn: Turn, officer_id: int | None) -> str:
    officer = await get_officer(turn.db, officer_id) if officer_id is not None else None
    return officer.name if officer else turn.t("view.nobody")


def _event_line(turn: Turn, event: TipEvent) -> str:
    parts = [turn.t(STATUS_NAMES[event.status])] if event.status is not None else []
    if event.assigned_officer is not None:
        parts.append(turn.t("view.event.assigned", name=event.assigned_officer.name))
    if event.note:
        parts.append(turn.t("view.event.note", note=event.note))
    if event.public_note:
        parts.append(turn.t("view.event.public", note=event.public_note))
    who = f" ({event.officer.name})" if event.officer is not None else ""
    return f"{_when(turn, event.created_at)}{who} – {'; '.join(parts)}"


async def _thread_lines(turn: Turn, tip: Tip) -> list[str]:
    lines = []
    for message in await list_thread(turn.db, tip.id):
        when = _when(turn, message.created_at)
        if message.role is ThreadRole.QUESTION:
            name = await _officer_name(turn, message.officer_id)
            said = turn.t("view.question", name=name, text=message.text)
            waiting = "" if message.answered_at else " " + turn.t("view.waiting")
            lines.append(f"{when} {said}{waiting}")
        else:
            answer = turn.t("view.answer", text=message.text)
            lines.append(f"{when} {answer}")
    return lines


def _actions(turn: Turn, tip: Tip) -> tuple[Option, ...]:
    """The tip's buttons, each in the same place on every tip and after every change (the
    current status marked, never taken away), so a tap learnt by position never lands on
    another; the urgent tip's take-it-on comes after them."""
    options = [
        *(_status_option(turn, tip, s, label, SetStatus) for s, label in SETTING.items()),
        *(_status_option(turn, tip, s, label, CloseTip) for s, label in CLOSING.items()),
        turn.option("button.ask", AskTipster(tip.id).pack()),
        turn.option("button.public_note", PublicNote(tip.id).pack()),
        turn.option("button.internal_note", InternalNote(tip.id).pack()),
        turn.option("button.assign", ChooseAssignee(tip.id).pack()),
        next_option(turn, tip),
    ]
    if tip.urgent:
        taken = N_("button.acked") if tip.acknowledged_at else N_("button.ack")
        options.append(turn.option(taken, Acknowledge(tip.id).pack()))
    return tuple(options)


def _status_option(
    turn: Turn, tip: Tip, status: TipStatus, label: str, kind: type[SetStatus | CloseTip]
) -> Option:
    shown = turn.t(label)
    if tip.status is status:
        shown = turn.t("button.current", label=shown)
    return Option(shown, kind(status.value, tip.id).pack())


# --- the buttons ---


async def officer_button(turn: Turn, button: Button | None) -> list[Reply]:
    """Any officer button: the action and the tip are re-checked here, never trusted."""
    if isinstance(button, TipList) and button.which in LISTS:
        return [replace(await tip_list(turn, button.which, button.page), in_place=True)]
    if not isinstance(button, TipButton) or type(button) not in TIP_ACTIONS:
        return [turn.say("not.allowed")]
    tip = await get_tip_by_id(turn.db, button.tip_id)
    if tip is None or not may_see(turn.ctx, turn.officer, tip):
        return [turn.say("not.allowed")]
    return await TIP_ACTIONS[type(button)](turn, tip, button)


async def _open(turn: Turn, tip: Tip, _: TipButton) -> list[Reply]:
    return await tip_view(turn, tip)


async def _next(turn: Turn, tip: Tip, button: NextTip) -> list[Reply]:
    """The next open tip of the queue after where this one stood, or the queue's end said."""
    assert turn.officer is not None
    following = await next_tip_id(turn.db, turn.ctx, turn.officer, tip, button.standing)
    found = await get_tip_by_id(turn.db, following) if following is not None else None
    return await tip_view(turn, found) if found is not None else [queue_end(turn, tip)]


async def _set_status(turn: Turn, tip: Tip, button: SetStatus) -> list[Reply]:
    """Verifying or handled, pressed on the tip."""
    if button.status not in SETTING:
        return [turn.say("not.allowed")]
    return await _change(turn, tip, TipStatus(button.status), confirmed=False)


async def _close(turn: Turn, tip: Tip, button: CloseTip) -> list[Reply]:
    """Close as unfounded, duplicate or spam, pressed on the tip."""
    if button.status not in CLOSING:
        return [turn.say("not.allowed")]
    return await _change(turn, tip, TipStatus(button.status), confirmed=False)


async def _confirmed(turn: Turn, tip: Tip, button: ConfirmStatus) -> list[Reply]:
    """Yes to telling the tipster: the change the question named goes ahead, its answer in
    the question's place."""
    if button.status not in SETTING and button.status not in CLOSING:
        return [turn.say("not.allowed")]
    replies = await _change(turn, tip, TipStatus(button.status), confirmed=True)
    return [replace(replies[0], in_place=True), *replies[1:]]


async def _change(turn: Turn, tip: Tip, status: TipStatus, *, confirmed: bool) -> list[Reply]:
    """A status button: one the tip already has is said at once (a duplicate may still be
    pointed at another first tip); one its tipster would be told of waits for a yes; then a
    closing asks for its reason (or the first tip's code), and the others apply."""
    if tip.status is status and status is not TipStatus.CLOSED_DUPLICATE:
        return [way_on(turn, tip).say("status.same", code=show_code(tip.code))]
    if not confirmed and tip.status is not status and await tells_tipster(acting_of(turn), tip):
        return [_confirmation(turn, tip, status)]
    if status in CLOSING:
        return [_ask_closing(turn, tip, status)]
    return await apply_status(turn, tip, status, note=None)


def _confirmation(turn: Turn, tip: Tip, status: TipStatus) -> Reply:
    """The question before a change the tipster will be told of: tell them, yes or no."""
    shown = turn.t(STATUS_NAMES[status])
    yes = turn.option("yes", ConfirmStatus(status.value, tip.id).pack())
    no = turn.option("no", KeepStatus(tip.id).pack())
    asked = turn.t("confirm.status", code=show_code(tip.code), status=shown)
    return Reply(asked, (yes, no), columns=2)


async def _kept(turn: Turn, tip: Tip, _: TipButton) -> list[Reply]:
    """No to telling the tipster: nothing changes and nobody is told."""
    status = turn.t(STATUS_NAMES[tip.status])
    kept = way_on(turn, tip).say("status.kept", code=show_code(tip.code), status=status)
    return [replace(kept, in_place=True)]


async def apply_status(turn: Turn, tip: Tip, status: TipStatus, *, note: str | None) -> list[Reply]:
    """Change the status (a history row with officer and note), audit it, tell the officer."""
    code, on = show_code(tip.code), way_on(turn, tip)
    if not await set_status(acting_of(turn), tip, status, note=note):
        return [on.say("status.same", code=code)]
    return [on.say("status.changed", code=code, status=turn.t(STATUS_NAMES[status]))]


def _ask_closing(turn: Turn, tip: Tip, status: TipStatus) -> Reply:
    """Ask for what a closing needs: the earlier tip's code for a duplicate, else a reason."""
    if status is TipStatus.CLOSED_DUPLICATE:
        turn.detour(StepName.OFFICER_DUPLICATE, tip=tip.id)
        return turn.say("ask.duplicate_of", code=show_code(tip.code))
    turn.detour(StepName.OFFICER_CLOSE, tip=tip.id, status=status.value)
    shown = turn.t(STATUS_NAMES[status])
    return turn.say("ask.close_note", code=show_code(tip.code), status=shown)


async def _ask_note(turn: Turn, tip: Tip, button: TipButton) -> list[Reply]:
    public = isinstance(button, PublicNote)
    turn.detour(StepName.OFFICER_NOTE, tip=tip.id, public=public)
    ask = N_("ask.public_note") if public else N_("ask.internal_note")
    return [turn.say(ask, code=show_code(tip.code))]


async def _acknowledge(turn: Turn, tip: Tip, _: TipButton) -> list[Reply]:
    """The alert's button: someone is on it, so nobody escalates it."""
    code, on = show_code(tip.code), way_on(turn, tip)
    if not await acknowledge(acting_of(turn), tip):
        name = await _officer_name(turn, tip.acknowledged_by_id)
        when = _when(turn, tip.acknowledged_at) if tip.acknowledged_at else ""
        return [on.say("ack.already", code=code, name=name, when=when)]
    return [on.say("ack.done", code=code)]


async def _assign_options(turn: Turn, tip: Tip, _: TipButton) -> list[Reply]:
    candidates = [
        o for o in await list_officers(turn.db, active_only=True) if may_see(turn.ctx, o, tip)
    ]
    if not candidates:
        return [turn.say("assign.none")]
    options = tuple(Option(o.name, AssignTo(o.id, tip.id).pack()) for o in candidates)
    return [Reply(turn.t("assign.ask", code=show_code(tip.code)), options, columns=2)]


async def _assign(turn: Turn, tip: Tip, button: AssignTo) -> list[Reply]:
    """Give the tip to an officer who can see it, and tell them through the outbox."""
    assignee = await get_officer(turn.db, button.officer_id)
    if assignee is None or not await assign(acting_of(turn), tip, assignee):
        return [turn.say("not.allowed")]
    return [way_on(turn, tip).say("assign.done", code=show_code(tip.code), name=assignee.name)]


# --- typed answers to the officer's side steps ---


async def _typed_note(turn: Turn) -> tuple[Tip | None, str]:
    tip = await get_tip_by_id(turn.db, int(turn.detour_data.get("tip", 0)))
    note = turn.msg.text.strip() if turn.msg.kind is Kind.TEXT else ""
    return (tip if may_see(turn.ctx, turn.officer, tip) else None), note[:NOTE_CHARS]


async def answer_close_note(turn: Turn) -> list[Reply]:
    """The closing reason: required, then the tip is closed with it."""
    tip, note = await _typed_note(turn)
    if tip is None:
        return await back_to_draft(turn, [turn.say("not.allowed")])
    if not note:
        return [turn.say("need.text")]
    status = TipStatus(turn.detour_data["status"])
    return await back_to_draft(turn, await apply_status(turn, tip, status, note=note))


async def answer_duplicate_of(turn: Turn) -> list[Reply]:
    """The earlier tip's code: the tip is closed as its duplicate; a wrong code is asked again."""
    tip, typed = await _typed_note(turn)
    if tip is None:
        return await back_to_draft(turn, [turn.say("not.allowed")])
    code = parse_code(typed)
    if code is None:
        return [turn.say("bad.code")]
    original = await get_tip(turn.db, code)
    if original is None or not may_see(turn.ctx, turn.officer, original):
        return [turn.say("tip.not_found", code=show_code(code))]
    on = way_on(turn, tip)
    first = await close_as_duplicate(acting_of(turn), tip, original)
    if first is None:
        return [turn.say("duplicate.self", code=show_code(tip.code))]
    done = on.say("duplicate.done", code=show_code(tip.code), original=show_code(first.code))
    return await back_to_draft(turn, [done])


async def answer_note(turn: Turn) -> list[Reply]:
    """A note on the tip: a public one is shown in the tipster's /status and announced to them
    if contactable; an internal one only officers read."""
    tip, note = await _typed_note(turn)
    if tip is None:
        return await back_to_draft(turn, [turn.say("not.allowed")])
    if not note:
        return [turn.say("need.text")]
    # A note begun before internal notes existed has no "public" and was a public one.
    if turn.detour_data.get("public", True):
        await add_public_note(acting_of(turn), tip, note)
        added = N_("public_note.added")
    else:
        await add_internal_note(acting_of(turn), tip, note)
        added = N_("internal_note.added")
    return await back_to_draft(turn, [way_on(turn, tip).say(added, code=show_code(tip.code))])


# Each action reads its own kind of button; officer_button picks the action by that kind.
TIP_ACTIONS: dict[type[TipButton], Callable[[Turn, Tip, Any], Awaitable[list[Reply]]]] = {
    OpenTip: _open,
    SetStatus: _set_status,
    CloseTip: _close,
    PublicNote: _ask_note,
    InternalNote: _ask_note,
    Acknowledge: _acknowledge,
    ChooseAssignee: _assign_options,
    AssignTo: _assign,
    AskTipster: ask_question,
    ConfirmStatus: _confirmed,
    KeepStatus: _kept,
    NextTip: _next,
}
