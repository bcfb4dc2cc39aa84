"""Following a tip up with its code and passphrase: /status and /forget."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import PASSPHRASE_DIGITS, normalise_passphrase, parse_code, show_code
from handlers.common.matching import typed_words
from handlers.common.notices import STATUS_NAMES
from handlers.common.sealing import Sealer
from handlers.common.texts import N_
from handlers.common.types import Context, Incoming, Kind, PassphraseCheck, Reply
from handlers.conversation.buttons import ForgetChoice, read_button
from handlers.conversation.turn import StepName, Turn, back_to_draft, draft_question, picked
from handlers.tips.answers import thread_for_tipster, verified_mark
from storage.conversations import find_conversation
from storage.guards import (
    count_wrong_passphrase,
    forget_passphrase_tries,
    get_action_count,
    message_window,
    passphrase_tries,
)
from storage.models import Tip
from storage.tips import (
    count_failed_check,
    delete_contact,
    get_contact,
    get_tip,
    set_failed_checks,
)

# How long wrong passphrases count, and how long too many lock the tip.
LOCK = timedelta(hours=1)
LOOKUPS = ("status", "forget")
# For each lookup, the step asking for the tip's code, then the one asking for its passphrase.
CODE_STEPS = {"status": StepName.STATUS_CODE, "forget": StepName.FORGET_CODE}
PASSPHRASE_STEPS = {"status": StepName.STATUS_PASS, "forget": StepName.FORGET_PASS}


async def begin_lookup(turn: Turn, action: str, typed_code: str) -> list[Reply]:
    """Start /status or /forget: with a code, ask for the passphrase; without, ask for the code."""
    if not typed_code.strip():
        turn.detour(CODE_STEPS[action])
        return [turn.say("ask.code")]
    return await _with_code(turn, action, typed_code)


async def _with_code(turn: Turn, action: str, typed: str) -> list[Reply]:
    code = parse_code(typed)
    if code is None:
        turn.detour(CODE_STEPS[action])
        return [turn.say("bad.code")]
    if action == "forget" and await _sealed_for_this_chat(turn, code):
        return _ask_to_forget(turn, code)  # the tipster's own chat needs no passphrase
    turn.detour(PASSPHRASE_STEPS[action], code=code)
    # A locked tip is said at once: typing a passphrase that cannot be checked would be cruel.
    tip = await get_tip(turn.db, code)
    locked = await locked_until(turn.db, turn.ctx, turn.msg.sender, code, tip)
    if locked is not None:
        return await back_to_draft(turn, [_locked(turn, code, locked)])
    return [turn.say("ask.passphrase", code=show_code(code))]


async def answer_code(turn: Turn) -> list[Reply]:
    """Take a typed tip code."""
    if turn.msg.kind is not Kind.TEXT:
        return [turn.say("ask.code")]
    return await _with_code(turn, turn.step.split(".")[0], turn.msg.text)


async def answer_passphrase(turn: Turn) -> list[Reply]:
    """Check the passphrase, then show the status or forget the contact; a wrong one is asked
    again, with the tries left."""
    code = str(turn.detour_data["code"])
    typed = normalise_passphrase(turn.msg.text) if turn.msg.kind is Kind.TEXT else ""
    if len(typed) != PASSPHRASE_DIGITS:
        # It cannot be the passphrase, so it costs no try: someone unsure what to type loses none.
        return [turn.say("passphrase.digits", code=show_code(code))]
    tip = await get_tip(turn.db, code)
    locked = await locked_until(turn.db, turn.ctx, turn.msg.sender, code, tip)
    if locked is not None:
        return await back_to_draft(turn, [_locked(turn, code, locked)])
    if tip is None or not await _matches(turn, tip, typed):
        return await _wrong(turn, code, tip)
    await forget_passphrase_tries(turn.db, digest=_tries_digest(turn.ctx, turn.msg.sender, code))
    await set_failed_checks(turn.db, tip, failed=0, locked_until=None)
    if turn.step.split(".")[0] == "forget":
        if await get_contact(turn.db, tip.id) is None:
            return await back_to_draft(turn, [turn.say("forget.none", code=show_code(code))])
        return _ask_to_forget(turn, code)
    replies = await back_to_draft(turn, await status_view(turn, tip))
    turn.goto(turn.step, {**turn.draft, **verified_mark(tip, turn.ctx.now)})
    return replies


def typed_passphrase(msg: Incoming) -> str | None:
    """The digits of a message that may be a passphrase (8 digits, typed privately), else None."""
    if msg.kind is not Kind.TEXT or not msg.private:
        return None
    typed = normalise_passphrase(msg.text)
    return typed if len(typed) == PASSPHRASE_DIGITS else None


async def passphrase_to_check(
    db: AsyncSession, msg: Incoming, typed: str, ctx: Context
) -> PassphraseCheck | None:
    """What a typed passphrase would be checked against, if the sender is being asked for one.

    Read before the update's transaction, so that the slow check (about 50 ms of scrypt) runs
    without holding the database's writer: a burst of /status lookups then queues nobody. A
    locked tip or a sender over the message limit gets no check, as inside the transaction:
    a flood of guesses must not become a flood of hashes.
    """
    conv = await find_conversation(db, channel=msg.channel, sender=msg.sender)
    if conv is None or conv.step not in PASSPHRASE_STEPS.values():
        return None
    sent = await get_action_count(
        db, sender=msg.sender, action="message", window_start=message_window(ctx.now)
    )
    if sent >= ctx.limits.messages_per_minute:
        return None
    code = str(conv.draft.get("detour", {}).get("code", ""))
    tip = await get_tip(db, code)
    if tip is None or await locked_until(db, ctx, msg.sender, code, tip) is not None:
        return None
    return PassphraseCheck(code=code, typed=typed, stored=tip.passphrase_hash)


def _tries_digest(ctx: Context, sender: str, code: str) -> str:
    # One keyed hash of both: no row links a pseudonym to a tip, even while tries count.
    return ctx.sealer.digest("passphrase-tries", f"{sender}:{code}")


async def locked_until(
    db: AsyncSession, ctx: Context, sender: str, code: str, tip: Tip | None
) -> datetime | None:
    """Until when this sender may not try a passphrase for this code: after too many wrong ones
    of theirs, or of everyone's for the tip (when it exists). None when they may."""
    ends = [tip.locked_until] if tip is not None and tip.locked_until is not None else []
    tries = await passphrase_tries(db, digest=_tries_digest(ctx, sender, code), now=ctx.now)
    if tries is not None and tries.failed >= ctx.limits.passphrase_attempts:
        ends.append(tries.until)
    end = max(ends, default=None)
    return end if end is not None and end > ctx.now else None


def checked(sealer: Sealer, check: PassphraseCheck) -> PassphraseCheck:
    """The check done (slow: call it in a thread)."""
    matches = sealer.passphrase_matches(check.typed, check.stored, code=check.code)
    return replace(check, matches=matches)


async def _matches(turn: Turn, tip: Tip, typed: str) -> bool:
    asked = PassphraseCheck(code=tip.code, typed=typed, stored=tip.passphrase_hash)
    ahead = turn.ctx.passphrase_check
    if ahead is not None and ahead.matches is not None and replace(ahead, matches=None) == asked:
        return ahead.matches
    # Not checked ahead (or the tip changed since): check now, holding the writer.
    return bool((await asyncio.to_thread(checked, turn.ctx.sealer, asked)).matches)


async def _wrong(turn: Turn, code: str, tip: Tip | None) -> list[Reply]:
    """Count a wrong passphrase against this sender (and the tip, if there is one); ask again
    with the tries left, or say the tip is locked. An unknown code reads as a wrong passphrase."""
    now, limits = turn.ctx.now, turn.ctx.limits
    digest = _tries_digest(turn.ctx, turn.msg.sender, code)
    tries = await count_wrong_passphrase(turn.db, digest=digest, now=now, until=now + LOCK)
    everyone = tip is not None and await count_failed_check(
        turn.db, tip, ceiling=limits.passphrase_attempts_per_tip, locked_until=now + LOCK
    )
    left = limits.passphrase_attempts - tries.failed
    if everyone or left <= 0:
        return await back_to_draft(turn, [_locked(turn, code, now + LOCK)])
    return [Reply(turn.tn("bad.passphrase", left, code=show_code(code)))]


def _locked(turn: Turn, code: str, until: datetime) -> Reply:
    """The tip is locked for this person until then: no passphrase is asked for."""
    shown = until.astimezone(turn.ctx.timezone).strftime("%H:%M")
    return turn.say("locked", code=show_code(code), until=shown)


async def _sealed_for_this_chat(turn: Turn, code: str) -> bool:
    """Whether the tip keeps a way back, and it leads to the very chat asking."""
    tip = await get_tip(turn.db, code)
    contact = await get_contact(turn.db, tip.id) if tip else None
    if contact is None:
        return False
    address = turn.ctx.sealer.open(contact.sealed, bound_to=code)
    return address == f"{turn.msg.channel}:{turn.msg.chat}"


def _ask_to_forget(turn: Turn, code: str) -> list[Reply]:
    """The question before the way back is deleted, now the one being asked."""
    turn.detour(StepName.FORGET_CONFIRM, code=code)
    return [prompt_forget(turn)]


def prompt_forget(turn: Turn) -> Reply:
    """Ask once, with Yes and No, before the way back is deleted for good."""
    code = str(turn.detour_data["code"])
    options = (
        turn.option("forget.yes", ForgetChoice(code, "yes").pack()),
        turn.option("forget.no", ForgetChoice(code, "no").pack()),
    )
    return Reply(turn.t("forget.confirm", code=show_code(code)), options, columns=2)


def _yes_or_no(turn: Turn, words: str) -> str:
    # "có" and "không" alone, too short to be a beginning of the buttons' words, answer too.
    answers = {typed_words(turn.t("yes")): "yes", typed_words(turn.t("no")): "no"}
    answer = answers.get(words)
    return ForgetChoice(str(turn.detour_data["code"]), answer).pack() if answer else ""


async def answer_forget(turn: Turn) -> list[Reply]:
    """Take a typed yes or no; anything else asks again and deletes nothing."""
    typed = picked(turn.msg, prompt_forget(turn).options, partial(_yes_or_no, turn))
    choice = read_button(typed)
    if not isinstance(choice, ForgetChoice):
        return [turn.say("use.buttons"), prompt_forget(turn)]
    return await _forget_answered(turn, choice)


async def forget_button(turn: Turn, button: ForgetChoice | None) -> list[Reply]:
    """A pressed Yes or No, taken only while its question is the one being asked."""
    asked = turn.step is StepName.FORGET_CONFIRM and turn.detour_data.get("code")
    if button is None or button.code != asked:
        return [turn.say("forget.stale"), *draft_question(turn)]
    return await _forget_answered(turn, button)


async def _forget_answered(turn: Turn, choice: ForgetChoice) -> list[Reply]:
    """Yes deletes the way back; no keeps it, and says so."""
    code = show_code(choice.code)
    if choice.answer != "yes":
        return await back_to_draft(turn, [turn.say("forget.kept", code=code)])
    tip = await get_tip(turn.db, choice.code)
    forgotten = tip is not None and await delete_contact(turn.db, tip.id)
    key = N_("forget.done") if forgotten else N_("forget.none")
    return await back_to_draft(turn, [turn.say(key, code=code)])


async def status_view(turn: Turn, tip: Tip) -> list[Reply]:
    """The tip's status, history, public notes, the thread with the police, the contact state."""
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
            status=turn.t(STATUS_NAMES[tip.status]),
        ),
        "",
        turn.t("status.history"),
    ]
    for event in tip.events:
        when = event.created_at.astimezone(tz).strftime("%d/%m %H:%M")
        if event.status is not None:
            lines.append(f"{when} – {turn.t(STATUS_NAMES[event.status])}")
        if event.public_note:
            note = turn.t("status.note", note=event.public_note)
            lines.append(f"{when} – {note}")
    thread, answer_buttons = await thread_for_tipster(turn, tip)
    if thread:
        lines += ["", turn.t("status.thread"), *thread]
    contact = await get_contact(turn.db, tip.id)
    lines += [
        "",
        turn.t(N_("status.contact_on") if contact else N_("status.contact_off"), code=code),
    ]
    return [Reply("\n".join(lines), answer_buttons)]


LOOKUP_STEPS = {
    **dict.fromkeys(CODE_STEPS.values(), answer_code),
    **dict.fromkeys(PASSPHRASE_STEPS.values(), answer_passphrase),
    StepName.FORGET_CONFIRM: answer_forget,
}


async def status_command(turn: Turn) -> list[Reply]:
    """/status [CODE]: a tip's status and thread, after its passphrase."""
    return await begin_lookup(turn, "status", turn.msg.args)


async def forget_command(turn: Turn) -> list[Reply]:
    """/forget [CODE]: delete the sealed contact address of a tip, after its passphrase (none
    from the chat it leads to) and a yes."""
    return await begin_lookup(turn, "forget", turn.msg.args)


def remind_code(turn: Turn) -> Reply:
    """The question a lookup asking for a code repeats."""
    return turn.say("ask.code")


def remind_passphrase(turn: Turn) -> Reply:
    """The question a lookup asking for a passphrase repeats, with the tip's code."""
    return turn.say("ask.passphrase", code=show_code(turn.detour_data["code"]))


REMINDERS = {
    **dict.fromkeys(CODE_STEPS.values(), remind_code),
    **dict.fromkeys(PASSPHRASE_STEPS.values(), remind_passphrase),
    StepName.FORGET_CONFIRM: prompt_forget,
}
