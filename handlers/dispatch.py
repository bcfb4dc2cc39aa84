"""The front door: every update from every channel comes through dispatch()."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.texts import N_, languages, text
from handlers.common.types import Context, Incoming, Kind, Option, Reply
from handlers.conversation.buttons import (
    AlertsChoice,
    CommentMissed,
    DigestChoice,
    InviteChoice,
    LanguageChoice,
    MemberButton,
    MenuChoice,
    OfficerButton,
    PatrolsReport,
    RemoveMember,
    TipsterButton,
    read_button,
    read_draft_choice,
)
from handlers.conversation.turn import Handler, StepName, Turn
from handlers.digests.morning import digest_command, digest_now, switch_digest
from handlers.officers.enrolment import (
    alerts,
    answer_invite_name,
    choose_invite,
    enrol,
    set_alerts,
    start_invite,
    welcome,
)
from handlers.patrols.admin import (
    answer_missed_comment,
    ask_missed_comment,
    members_view,
    new_patrol,
    patrol_view,
    patrols_report,
    patrols_view,
    remove_member,
    set_schedule,
)
from handlers.patrols.shifts import (
    answer_checkin_place,
    answer_checkout,
    answer_checkpoint,
    answer_incident,
    answer_name,
    checkin,
    checkout,
    join,
    leave,
    location_without_shift,
    member_button,
)
from handlers.tips.answers import answer_officer_question, answer_text, tipster_button
from handlers.tips.flow import STEPS, back_to_draft, start_tip
from handlers.tips.lookups import CODE_STEPS, LOOKUP_STEPS, PASSPHRASE_STEPS, begin_lookup
from handlers.triage.chat import (
    answer_close_note,
    answer_duplicate_of,
    answer_note,
    list_command,
    officer_button,
    view_command,
)
from handlers.triage.export import export_tips
from storage.models import AlertLevel
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
    turn = Turn(msg, db, ctx, conv, officer)
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
    if turn.step in STEPS:
        return await STEPS[turn.step].answer(turn)
    if turn.step in OFFICER_STEPS and turn.officer is None:
        return await back_to_draft(turn, [turn.say("not.allowed")])  # revoked mid-way
    side_step = SIDE_STEPS.get(turn.step)
    if side_step is not None:
        return await side_step(turn)
    if turn.msg.kind is Kind.LOCATION:
        stray = await location_without_shift(turn)
        if stray is not None:
            return stray
    return [Reply(turn.t("idle.hint"), menu(turn))]


async def _choice(turn: Turn) -> list[Reply]:
    """A pressed button: menu and language buttons work anywhere; draft buttons are checked."""
    match read_button(turn.msg.choice):
        case MenuChoice(item=item) if item in MENU:
            return await MENU[item](turn)
        case LanguageChoice(language=language) if language in languages():
            return await set_language(turn, language)
    namespace = turn.msg.choice.partition(":")[0]
    if namespace == OfficerButton.namespace:
        # Re-checked on the server: a revoked officer's or a forged button changes nothing.
        return await _officer_choice(turn) if turn.officer else [turn.say("not.allowed")]
    if namespace == TipsterButton.namespace:
        return await tipster_button(turn)
    if namespace == MemberButton.namespace:
        return await member_button(turn)
    return await _draft_choice(turn)


async def _draft_choice(turn: Turn) -> list[Reply]:
    """A tip draft's button: this draft's, at the step it was asked for, or said to be stale."""
    pressed = read_draft_choice(turn.msg.choice)
    if pressed is None:
        return [turn.say("bad.button"), *where_you_are(turn)]
    this_draft = pressed.flow == turn.conv.draft.get("flow")
    if this_draft and pressed.value == "x":
        return await cancel(turn)
    step = STEPS.get(turn.step)
    if step is None or not this_draft or not step.takes(turn, turn.msg.choice):
        return [turn.say("stale.button"), *where_you_are(turn)]
    return await step.answer(turn)


async def _officer_choice(turn: Turn) -> list[Reply]:
    """Officer buttons; who may press them is decided again here, never by the button."""
    match read_button(turn.msg.choice):
        case AlertsChoice(level=level) if level in ALERT_LEVELS:
            return await set_alerts(turn, AlertLevel(level))
        case InviteChoice(question=question, answer=answer):
            return await choose_invite(turn, question, answer)
        case CommentMissed(missed_id=missed_id):
            return await ask_missed_comment(turn, missed_id)
        case RemoveMember(member_id=member_id):
            return await remove_member(turn, member_id)
        case PatrolsReport(period=period):
            return await patrols_report(turn, period)
        case DigestChoice(choice="now"):
            return await digest_now(turn)
        case DigestChoice(choice="on" | "off" as switch):
            return await switch_digest(turn, enabled=switch == "on")
        case button:
            return await officer_button(turn, button)


ALERT_LEVELS = frozenset(level.value for level in AlertLevel)


def where_you_are(turn: Turn) -> list[Reply]:
    """The current question again, so the person knows what to do next."""
    if turn.step in STEPS:
        return [STEPS[turn.step].prompt(turn)]
    if turn.step in PASSPHRASE_STEPS.values():
        return [turn.say("ask.passphrase", code=show_code(turn.detour_data["code"]))]
    if turn.step in CODE_STEPS.values():
        return [turn.say("ask.code")]
    if turn.step in SIDE_STEPS:
        return [turn.say("need.text")]
    return [Reply(turn.t("idle.hint"), menu(turn))]


def menu(turn: Turn) -> tuple[Option, ...]:
    """The resident's main menu."""
    return tuple(turn.option(label, MenuChoice(item).pack()) for item, label in MENU_LABELS.items())


async def show_start(turn: Turn) -> list[Reply]:
    """Greet, say what is stored, remind of 113, and offer the menu (or the draft in progress)."""
    if turn.msg.args.startswith("off-"):
        return await enrol(turn, turn.msg.args)  # the officer's invite deep link
    if turn.msg.args.startswith("pt-"):
        return await _join(turn)  # a patrol group's join link
    await _leave_side_step(turn)
    district = turn.ctx.catalog.district.name(turn.lang)
    greeting = Reply(turn.t("start", district=district), menu(turn))
    extra = [welcome(turn, turn.officer)] if turn.officer is not None else []
    if turn.step in STEPS:
        return [greeting, *extra, turn.say("resume"), STEPS[turn.step].prompt(turn)]
    return [greeting, *extra]


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


async def _officer(turn: Turn) -> list[Reply]:
    return await enrol(turn, turn.msg.args)


async def _join(turn: Turn) -> list[Reply]:
    return await join(turn, turn.msg.args)


async def _status(turn: Turn) -> list[Reply]:
    return await begin_lookup(turn, "status", turn.msg.args)


async def _forget(turn: Turn) -> list[Reply]:
    return await begin_lookup(turn, "forget", turn.msg.args)


MENU: dict[str, Handler] = {"tip": _tip, "status": _status, "help": show_help, "lang": ask_language}
MENU_LABELS = {
    "tip": N_("menu.tip"),
    "status": N_("menu.status"),
    "help": N_("menu.help"),
    "lang": N_("menu.lang"),
}

COMMANDS: dict[str, Handler] = {
    "start": show_start,
    "help": show_help,
    "lang": ask_language,
    "language": ask_language,
    "cancel": cancel,
    "tip": _tip,
    "status": _status,
    "forget": _forget,
    "officer": _officer,
    "join": _join,
    "leave": leave,
    "checkin": checkin,
    "checkout": checkout,
}

# Only for enrolled, unrevoked officers; anyone else gets exactly the unknown-command answer.
OFFICER_COMMANDS: dict[str, Handler] = {
    "tips": list_command,
    "alerts": alerts,
    "export": export_tips,
    "invite": start_invite,
    "newpatrol": new_patrol,
    "schedule": set_schedule,
    "patrols": patrols_view,
    "patrol": patrol_view,
    "members": members_view,
    "digest": digest_command,
}

OFFICER_STEPS: dict[StepName, Handler] = {
    StepName.OFFICER_ASK: answer_officer_question,
    StepName.OFFICER_CLOSE: answer_close_note,
    StepName.OFFICER_DUPLICATE: answer_duplicate_of,
    StepName.OFFICER_NOTE: answer_note,
    StepName.OFFICER_INVITE: answer_invite_name,
    StepName.OFFICER_MISSED: answer_missed_comment,
}

PATROL_STEPS: dict[StepName, Handler] = {
    StepName.PATROL_NAME: answer_name,
    StepName.PATROL_START: answer_checkin_place,
    StepName.PATROL_CHECKPOINT: answer_checkpoint,
    StepName.PATROL_INCIDENT: answer_incident,
    StepName.PATROL_END: answer_checkout,
}

# Steps taken aside from a tip being written; /cancel or a finished answer returns to it.
SIDE_STEPS: dict[StepName, Handler] = {
    **LOOKUP_STEPS,
    **OFFICER_STEPS,
    **PATROL_STEPS,
    StepName.ANSWER: answer_text,
}


async def run_command(turn: Turn) -> list[Reply]:
    """A slash command; an unknown one gets a pointer to /help and the current question."""
    handler = COMMANDS.get(turn.msg.command)
    if handler is None and turn.officer is not None:
        handler = OFFICER_COMMANDS.get(turn.msg.command)
    if handler is None:
        return [turn.say("unknown.command"), *where_you_are(turn)]
    return await handler(turn)
