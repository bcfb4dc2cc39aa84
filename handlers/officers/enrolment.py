"""Officers: invitations, enrolment from a chat, and alert preferences."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import CODE_ALPHABET
from handlers.common.scopes import scope_name
from handlers.common.texts import N_, text
from handlers.common.types import Context, Option, Reply
from handlers.conversation.buttons import AlertsChoice, InviteChoice
from handlers.conversation.turn import StepName, Turn, back_to_draft
from storage.audit import add_audit
from storage.models import AlertLevel, Officer
from storage.officers import (
    add_invite,
    add_officer,
    enrol_officer,
    get_invite,
    set_officer,
)

INVITE_LENGTH = 10
DEEP_LINK_PREFIX = "off-"


async def invite_officer(
    db: AsyncSession,
    ctx: Context,
    *,
    name: str,
    area: str | None,
    is_admin: bool,
    created_by: Officer | None,
) -> tuple[Officer, str]:
    """Create an officer and a one-time invite; returns the officer and the code to hand over."""
    unit = ctx.catalog.unit(area)
    if unit is None:
        raise ValueError(f"unknown unit code {area!r}")
    area = None if unit is ctx.catalog.root else unit.code
    officer = await add_officer(db, name=name, area=area, is_admin=is_admin, now=ctx.now)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITE_LENGTH))
    await add_invite(
        db,
        officer_id=officer.id,
        code_hash=ctx.sealer.digest("invite", code),
        expires_at=ctx.now + timedelta(hours=ctx.limits.invite_hours),
        created_by_id=created_by.id if created_by else None,
        now=ctx.now,
    )
    await add_audit(
        db,
        officer_id=created_by.id if created_by else None,
        action="invite",
        now=ctx.now,
        detail=f"officer {officer.id} {name} ({area or ctx.catalog.root.code})",
    )
    return officer, code


def deep_link(bot_username: str, code: str) -> str:
    """The t.me link that enrols whoever opens it with this invite code."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{code}"


async def enrol(turn: Turn) -> list[Reply]:
    """/officer CODE or the off- deep link: this chat becomes the invited officer's, if the code
    is valid, unused and unexpired."""
    code = turn.msg.args.strip().removeprefix(DEEP_LINK_PREFIX)
    if not code:
        return [turn.say("officer.ask_code")]
    invite = await get_invite(turn.db, turn.ctx.sealer.digest("invite", code))
    if invite is None or invite.used_at is not None or invite.officer.revoked_at is not None:
        return [turn.say("officer.bad_code")]
    if invite.expires_at <= turn.ctx.now:
        return [turn.say("officer.expired_code")]
    if turn.officer is not None and turn.officer.id != invite.officer_id:
        # Another officer's chat: taking it over would cut them off. The code stays unused.
        return [turn.say("officer.chat_taken", name=turn.officer.name)]
    officer = await enrol_officer(
        turn.db,
        invite,
        channel=turn.msg.channel,
        chat=turn.msg.chat,
        language=turn.lang,
        now=turn.ctx.now,
    )
    turn.officer = officer
    await add_audit(turn.db, officer_id=officer.id, action="enrol", now=turn.ctx.now)
    return [welcome(turn, officer)]


def welcome(turn: Turn, officer: Officer) -> Reply:
    """What an officer can do, in one message."""
    admin = turn.t("officer.admin_hint") if officer.is_admin else ""
    scope = scope_name(turn.ctx, turn.lang, officer.area)
    return Reply(turn.t("officer.welcome", name=officer.name, scope=scope, admin=admin))


ALERT_LEVELS = {
    AlertLevel.ALL: N_("alerts.all"),
    AlertLevel.URGENT: N_("alerts.urgent"),
    AlertLevel.OFF: N_("alerts.off"),
}


async def alerts(turn: Turn) -> list[Reply]:
    """/alerts all|urgent|off sets the level; without an argument, offers the three."""
    assert turn.officer is not None
    wanted = turn.msg.args.strip().lower()
    if wanted in {level.value for level in AlertLevel}:
        return await set_alerts(turn, AlertLevel(wanted))
    level = turn.t(ALERT_LEVELS[turn.officer.alerts])
    options = tuple(
        turn.option(label, AlertsChoice(lvl.value).pack()) for lvl, label in ALERT_LEVELS.items()
    )
    return [Reply(turn.t("alerts.ask", level=level), options)]


async def alerts_button(turn: Turn, button: AlertsChoice | None) -> list[Reply]:
    """A level pressed under /alerts; one that is no level changes nothing."""
    if button is None or button.level not in ALERT_LEVELS:
        return [turn.say("not.allowed")]
    return await set_alerts(turn, AlertLevel(button.level))


async def invite_button(turn: Turn, button: InviteChoice | None) -> list[Reply]:
    """An answer pressed while an invitation is being made."""
    if button is None:
        return [turn.say("not.allowed")]
    return await choose_invite(turn, button.question, button.answer)


async def set_alerts(turn: Turn, level: AlertLevel) -> list[Reply]:
    """Store the officer's alert level."""
    assert turn.officer is not None
    await set_officer(turn.db, turn.officer, alerts=level)
    return [turn.say("alerts.set", level=turn.t(ALERT_LEVELS[level]))]


async def start_invite(turn: Turn) -> list[Reply]:
    """An admin officer invites another: name, then area, then admin or not."""
    assert turn.officer is not None
    if not turn.officer.is_admin:
        return [turn.say("not.allowed")]
    turn.detour(StepName.OFFICER_INVITE)
    return [turn.say("invite.ask_name")]


async def answer_invite_name(turn: Turn) -> list[Reply]:
    """Take the invitee's name and ask for their area."""
    name = turn.msg.text.strip()
    if not name or len(name) > 120:
        return [turn.say("need.text")]
    turn.detour(StepName.OFFICER_INVITE, name=name)
    units = turn.ctx.catalog.units
    areas = [Option(units[0].name(turn.lang), InviteChoice("area", "-").pack())]
    areas += [Option(u.name(turn.lang), InviteChoice("area", u.code).pack()) for u in units[1:]]
    return [Reply(turn.t("invite.ask_scope", name=name), tuple(areas), columns=2)]


async def choose_invite(turn: Turn, part: str, value: str) -> list[Reply]:
    """The area, then the admin choice; the last one makes the code."""
    assert turn.officer is not None
    draft = turn.detour_data
    if turn.step is not StepName.OFFICER_INVITE or "name" not in draft or not turn.officer.is_admin:
        return [turn.say("not.allowed")]
    if part == "area":
        if value != "-" and turn.ctx.catalog.unit(value) is None:
            return [turn.say("not.allowed")]
        turn.detour(StepName.OFFICER_INVITE, area=None if value == "-" else value)
        options = (
            turn.option("yes", InviteChoice("admin", "1").pack()),
            turn.option("no", InviteChoice("admin", "0").pack()),
        )
        return [Reply(turn.t("invite.ask_admin", name=draft["name"]), options, columns=2)]
    if part != "admin" or "area" not in draft:
        return [turn.say("not.allowed")]
    officer, code = await invite_officer(
        turn.db,
        turn.ctx,
        name=draft["name"],
        area=draft["area"],
        is_admin=value == "1",
        created_by=turn.officer,
    )
    return await back_to_draft(turn, [Reply(invite_text(turn.ctx, turn.lang, officer, code))])


def invite_text(ctx: Context, lang: str, officer: Officer, code: str) -> str:
    """The message (or CLI output) that hands an invite over."""
    link = (
        text(lang, "invite.link", url=deep_link(ctx.bot_username, code)) if ctx.bot_username else ""
    )
    expires = (ctx.now + timedelta(hours=ctx.limits.invite_hours)).astimezone(ctx.timezone)
    return text(
        lang,
        "invite.made",
        name=officer.name,
        scope=scope_name(ctx, lang, officer.area),
        expires=expires.strftime("%d/%m/%Y %H:%M"),
        code=code,
        link=link,
    )
