"""The front door: every update from every channel comes through dispatch().

Each feature declares in its own room what it brings (commands, steps, buttons:
handlers/conversation/feature.py); this module merges them and routes by the result. What
belongs to no single feature lives here: /start and its menu, /help, /lang, /cancel, /tip
(which opens a tip for an officer who names one), and repeating the current question.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import digests, officers, patrols, tips, triage
from handlers.common.texts import N_, languages, text
from handlers.common.types import Context, Incoming, Kind, Option, Reply
from handlers.conversation.buttons import (
    LanguageChoice,
    MenuChoice,
    OfficerButton,
    namespace_of,
    read_button,
    read_draft_choice,
)
from handlers.conversation.feature import Feature, merged
from handlers.conversation.turn import Handler, StepName, Turn, back_to_draft, draft_question
from handlers.officers.enrolment import welcome
from handlers.tips.flow import start_tip
from handlers.tips.lookups import status_command
from handlers.triage.chat import view_command
from storage.officers import get_officer, set_officer, set_reachable
from storage.updates import Started


async def dispatch(msg: Incoming, db: AsyncSession, ctx: Context, started: Started) -> list[Reply]:
    """Answer one claimed update; its writes join the caller's transaction, the conversation's
    move written when the update ends."""
    conv = started.conversation
    if not msg.private or conv is None:  # outside a private chat nothing was read
        return _group_answer(msg, ctx)
    if started.sent > ctx.limits.messages_per_minute:
        # Said once per window, not per message: a flood must not become a flood of replies.
        return _slow_down(msg) if started.sent == ctx.limits.messages_per_minute + 1 else []
    officer_id = started.officer_id
    officer = None if officer_id is None else await get_officer(db, officer_id)
    if officer is not None and officer.unreachable_at is not None:
        # They wrote, so the chat works again: admins stop hearing that it does not.
        await set_reachable(db, officer.id, reason=None, now=ctx.now)
    turn = Turn(msg, db, ctx, conv, officer, draft_steps=EVERYTHING.draft_steps)
    notes = await _expire_stale_draft(turn)
    return notes + await _route(turn)


def _group_answer(msg: Incoming, ctx: Context) -> list[Reply]:
    """In a group: one pointer to the private chat for commands, silence otherwise."""
    if msg.kind is not Kind.COMMAND:
        return []
    handle = f" @{ctx.bot_username}" if ctx.bot_username else ""
    return [Reply(text(_hint_language(msg), "group.private", handle=handle))]


def _hint_language(msg: Incoming) -> str:
    return "en" if msg.language_hint.startswith("en") else "vi"


def _slow_down(msg: Incoming) -> list[Reply]:
    return [Reply(text(_hint_language(msg), "rate.messages"))]


async def _expire_stale_draft(turn: Turn) -> list[Reply]:
    ttl = timedelta(hours=turn.ctx.limits.draft_ttl_hours)
    if turn.step is StepName.IDLE or turn.conv.updated_at > turn.ctx.now - ttl:
        return []
    turn.reset()
    return [Reply(turn.tn("draft.expired", turn.ctx.limits.draft_ttl_hours))]


async def _route(turn: Turn) -> list[Reply]:
    msg = turn.msg
    if msg.kind is Kind.COMMAND:
        return await run_command(turn)
    if msg.kind is Kind.EDITED:
        return [turn.say("edited")]
    if msg.forwarded:
        return [turn.say("forwarded"), *where_you_are(turn)]
    if msg.kind is Kind.UNSUPPORTED:
        key = N_("unsupported.contact") if msg.unsupported == "contact" else N_("unsupported")
        return [turn.say(key), *where_you_are(turn)]
    if msg.kind is Kind.CHOICE:
        return await _choice(turn)
    return await _answer_step(turn)


async def _answer_step(turn: Turn) -> list[Reply]:
    draft_step = EVERYTHING.draft_steps.get(turn.step)
    if draft_step is not None:
        return await draft_step.answer(turn)
    if turn.step in EVERYTHING.officer_steps and turn.officer is None:
        return await back_to_draft(turn, [turn.say("not.allowed")])  # revoked mid-way
    side_step = SIDE_STEPS.get(turn.step)
    if side_step is not None:
        return await side_step(turn)
    for stray in EVERYTHING.strays:
        taken = await stray(turn)
        if taken is not None:
            return taken
    return [Reply(turn.t("idle.hint"), menu(turn))]


async def _choice(turn: Turn) -> list[Reply]:
    """A pressed button, answered by the feature that declared its kind (checked again there);
    an officer's only for an officer; anything else is a tip draft's answer, or stale."""
    button = read_button(turn.msg.choice)
    kind = type(button) if button is not None else namespace_of(turn.msg.choice)
    handler = EVERYTHING.button_handler(kind) if kind is not None else None
    if handler is None:
        return await _draft_choice(turn)
    if kind is not None and issubclass(kind, OfficerButton) and turn.officer is None:
        # Re-checked on the server: a revoked officer's or a forged button changes nothing.
        return [turn.say("not.allowed")]
    return await handler(turn, button)


async def _draft_choice(turn: Turn) -> list[Reply]:
    """A tip draft's button: this draft's, at the step it was asked for, or said to be stale."""
    pressed = read_draft_choice(turn.msg.choice)
    if pressed is None:
        return [turn.say("bad.button"), *where_you_are(turn)]
    this_draft = pressed.flow == turn.conv.draft.get("flow")
    if this_draft and pressed.value == "x":
        return await cancel(turn)
    step = EVERYTHING.draft_steps.get(turn.step)
    if step is None or not this_draft or not step.takes(turn, turn.msg.choice):
        return [turn.say("stale.button"), *where_you_are(turn)]
    return await step.answer(turn)


def where_you_are(turn: Turn) -> list[Reply]:
    """The current question again, so the person knows what to do next."""
    draft_step = EVERYTHING.draft_steps.get(turn.step)
    if draft_step is not None:
        return [draft_step.prompt(turn)]
    reminder = EVERYTHING.reminders.get(turn.step)
    if reminder is not None:
        return [reminder(turn)]
    if turn.step in SIDE_STEPS:
        return [turn.say("need.text")]
    return [Reply(turn.t("idle.hint"), menu(turn))]


def menu(turn: Turn) -> tuple[Option, ...]:
    """The resident's main menu."""
    return tuple(turn.option(label, MenuChoice(item).pack()) for item, label in MENU_LABELS.items())


async def show_start(turn: Turn) -> list[Reply]:
    """Greet, say what is stored, remind of 113, and offer the menu (or the draft in progress);
    a deep link (an officer's invitation, a patrol group's) opens what it names instead."""
    link = next(
        (
            opens
            for prefix, opens in EVERYTHING.deep_links.items()
            if turn.msg.args.startswith(prefix)
        ),
        None,
    )
    if link is not None:
        return await link(turn)
    await _leave_side_step(turn)
    greeting = Reply(turn.t("start", police=turn.ctx.catalog.top_police(turn.lang)), menu(turn))
    extra = [welcome(turn, turn.officer)] if turn.officer is not None else []
    return [greeting, *extra, *draft_question(turn)]


async def show_help(turn: Turn) -> list[Reply]:
    """List the commands."""
    return [turn.say("help"), *([] if turn.step is StepName.IDLE else where_you_are(turn))]


async def ask_language(turn: Turn) -> list[Reply]:
    """Offer every language there is a catalogue for, each named in itself."""
    options = tuple(
        Option(text(code, "language.name"), LanguageChoice(code).pack()) for code in languages()
    )
    return [Reply(turn.t("lang.ask"), options, columns=2)]


async def set_language(turn: Turn, lang: str) -> list[Reply]:
    """Switch language and repeat the current question in it."""
    turn.conv.language = lang
    turn.goto(turn.step)
    if turn.officer is not None:
        await set_officer(turn.db, turn.officer, language=lang)
    return [turn.say("lang.done"), *([] if turn.step is StepName.IDLE else where_you_are(turn))]


async def cancel(turn: Turn) -> list[Reply]:
    """Stop a side step (keeping the draft), or drop the draft."""
    if turn.step in SIDE_STEPS:
        return await back_to_draft(turn, [turn.say("cancelled")])
    if turn.step is StepName.IDLE:
        return [turn.say("cancel.nothing")]
    turn.reset()
    return [turn.say("cancelled")]


async def _leave_side_step(turn: Turn) -> None:
    if turn.step in SIDE_STEPS:
        turn.end_detour()


async def _tip(turn: Turn) -> list[Reply]:
    if turn.officer is not None and turn.msg.args.strip():
        return await view_command(turn)  # an officer's /tip CODE opens that tip
    await _leave_side_step(turn)
    return await start_tip(turn)


async def _menu_button(turn: Turn, button: MenuChoice | None) -> list[Reply]:
    opens = MENU.get(button.item) if button is not None else None
    if opens is None:
        return [turn.say("bad.button"), *where_you_are(turn)]
    return await opens(turn)


async def _language_button(turn: Turn, button: LanguageChoice | None) -> list[Reply]:
    if button is None or button.language not in languages():
        return [turn.say("bad.button"), *where_you_are(turn)]
    return await set_language(turn, button.language)


MENU: dict[str, Handler] = {
    "tip": _tip,
    "status": status_command,
    "help": show_help,
    "lang": ask_language,
}
MENU_LABELS = {
    "tip": N_("menu.tip"),
    "status": N_("menu.status"),
    "help": N_("menu.help"),
    "lang": N_("menu.lang"),
}

HOME = Feature(
    commands={
        "start": show_start,
        "help": show_help,
        "lang": ask_language,
        "language": ask_language,
        "cancel": cancel,
        "tip": _tip,
    },
    buttons={MenuChoice: _menu_button, LanguageChoice: _language_button},
)

EVERYTHING = merged(
    HOME,
    tips.FEATURE,
    triage.FEATURE,
    officers.FEATURE,
    patrols.FEATURE,
    digests.FEATURE,
)
# Steps taken aside from a tip being written; /cancel or a finished answer returns to it.
SIDE_STEPS: dict[StepName, Handler] = {**EVERYTHING.side_steps, **EVERYTHING.officer_steps}


async def run_command(turn: Turn) -> list[Reply]:
    """A slash command; an unknown one gets a pointer to /help and the current question."""
    handler = EVERYTHING.commands.get(turn.msg.command)
    if handler is None and turn.officer is not None:
        handler = EVERYTHING.officer_commands.get(turn.msg.command)
    if handler is None:
        return [turn.say("unknown.command"), *where_you_are(turn)]
    return await handler(turn)
