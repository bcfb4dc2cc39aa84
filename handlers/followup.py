"""Following a tip up with its code and passphrase: /status and /forget."""

from __future__ import annotations

from datetime import timedelta

from handlers.codes import normalise_passphrase, parse_code, show_code
from handlers.sealing import check_passphrase
from handlers.tip_flow import STEPS
from handlers.turn import Turn
from handlers.types import Kind, Reply
from storage.conversations import IDLE
from storage.models import Tip
from storage.tips import delete_contact, get_contact, get_tip, set_failed_checks

LOCK_MINUTES = 60
LOOKUPS = ("status", "forget")


async def begin_lookup(turn: Turn, action: str, typed_code: str) -> list[Reply]:
    """Start /status or /forget: with a code, ask for the passphrase; without, ask for the code."""
    draft = turn.draft
    if turn.step not in LOOKUP_STEPS:
        draft["resume"] = turn.step
    if not typed_code.strip():
        await turn.goto(f"{action}.code", draft)
        return [turn.say("ask.code")]
    return await _with_code(turn, action, typed_code, draft)


async def _with_code(turn: Turn, action: str, typed: str, draft: dict[str, object]) -> list[Reply]:
    code = parse_code(typed)
    if code is None:
        await turn.goto(f"{action}.code", draft)
        return [turn.say("bad.code")]
    if action == "forget" and await _forget_from_same_chat(turn, code):
        return await finish_lookup(turn, [turn.say("forget.done", code=show_code(code))])
    await turn.goto(f"{action}.pass", {**draft, "lookup": code})
    return [turn.say("ask.passphrase", code=show_code(code))]


async def answer_code(turn: Turn) -> list[Reply]:
    """Take a typed tip code."""
    if turn.msg.kind is not Kind.TEXT:
        return [turn.say("ask.code")]
    action = turn.step.split(".")[0]
    return await _with_code(turn, action, turn.msg.text, turn.draft)


async def answer_passphrase(turn: Turn) -> list[Reply]:
    """Check the passphrase, then show the status or forget the contact."""
    if turn.msg.kind is not Kind.TEXT:
        return [turn.say("ask.passphrase", code=show_code(turn.conv.draft["lookup"]))]
    action = turn.step.split(".")[0]
    code = str(turn.conv.draft["lookup"])
    tip = await get_tip(turn.db, code)
    refusal = await _refuse(turn, tip)
    if refusal is not None or tip is None:
        return await finish_lookup(turn, [refusal or turn.say("bad.passphrase")])
    if action == "forget":
        forgotten = await delete_contact(turn.db, tip.id)
        key = "forget.done" if forgotten else "forget.none"
        return await finish_lookup(turn, [turn.say(key, code=show_code(code))])
    return await finish_lookup(turn, [await status_view(turn, tip)])


async def _refuse(turn: Turn, tip: Tip | None) -> Reply | None:
    """A refusal for a locked tip or a wrong passphrase (counted), or None if it is right."""
    if tip is None:
        return turn.say("bad.passphrase")
    now = turn.ctx.now
    if tip.locked_until is not None and tip.locked_until > now:
        until = tip.locked_until.astimezone(turn.ctx.timezone).strftime("%H:%M")
        return turn.say("locked", until=until)
    if check_passphrase(normalise_passphrase(turn.msg.text), tip.passphrase_hash):
        await set_failed_checks(turn.db, tip, failed=0, locked_until=None)
        return None
    failed = tip.failed_checks + 1
    locked = failed >= turn.ctx.limits.passphrase_attempts
    await set_failed_checks(
        turn.db,
        tip,
        failed=0 if locked else failed,
        locked_until=now + timedelta(minutes=LOCK_MINUTES) if locked else None,
    )
    return turn.say("bad.passphrase")


async def _forget_from_same_chat(turn: Turn, code: str) -> bool:
    """Forget without a passphrase when the request comes from the very chat that was sealed."""
    tip = await get_tip(turn.db, code)
    contact = await get_contact(turn.db, tip.id) if tip else None
    if tip is None or contact is None:
        return False
    address = turn.ctx.sealer.open(contact.sealed, bound_to=code)
    if address != f"{turn.msg.channel}:{turn.msg.chat}":
        return False
    return await delete_contact(turn.db, tip.id)


async def status_view(turn: Turn, tip: Tip) -> Reply:
    """The tip's status, its history with the police's public notes, and the contact state."""
    catalog, tz = turn.ctx.catalog, turn.ctx.timezone
    category, area = catalog.category(tip.category), catalog.area(tip.area)
    code = show_code(tip.code)
    lines = [
        turn.t(
            "status.view",
            code=code,
            category=category.name(turn.lang) if category else tip.category,
            area=area.name(turn.lang) if area else tip.area,
            sent=tip.created_at.astimezone(tz).strftime("%d/%m/%Y"),
            status=turn.t(f"status.{tip.status.value}"),
        ),
        "",
        turn.t("status.history"),
    ]
    for event in tip.events:
        when = event.created_at.astimezone(tz).strftime("%d/%m %H:%M")
        if event.status is not None:
            lines.append(f"{when} – {turn.t(f'status.{event.status.value}')}")
        if event.public_note:
            lines.append(f"{when} – {turn.t('status.note', note=event.public_note)}")
    contact = await get_contact(turn.db, tip.id)
    lines += ["", turn.t("status.contact_on" if contact else "status.contact_off", code=code)]
    return Reply("\n".join(lines))


async def leave_lookup(turn: Turn) -> None:
    """Drop a /status or /forget in progress, back to the tip being written (or idle)."""
    if turn.step not in LOOKUP_STEPS:
        return
    draft = turn.draft
    resume = str(draft.pop("resume", IDLE))
    draft.pop("lookup", None)
    await turn.goto(resume if resume in STEPS else IDLE, draft if resume in STEPS else {})


async def finish_lookup(turn: Turn, replies: list[Reply]) -> list[Reply]:
    """End a lookup and return to the tip being written, if there was one."""
    await leave_lookup(turn)
    if turn.step in STEPS:
        replies += [turn.say("resume"), STEPS[turn.step].prompt(turn)]
    return replies


LOOKUP_STEPS = {
    **{f"{action}.code": answer_code for action in LOOKUPS},
    **{f"{action}.pass": answer_passphrase for action in LOOKUPS},
}
