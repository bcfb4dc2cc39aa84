"""Operator commands on the command line: tips, officers, the audit log."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.runtime import Runtime
from bot.settings import Settings, SettingsError
from handlers.common.codes import parse_code, show_code
from handlers.common.notices import change_status
from handlers.common.schedule import parse_schedule, show_slots
from handlers.officers.enrolment import invite_officer, invite_text
from handlers.patrols.admin import create_group, created_text
from handlers.triage.signin import new_sign_in_link
from storage.audit import add_audit, list_audit
from storage.desk import end_desk_sessions
from storage.models import Officer, TipStatus
from storage.officers import get_officer, list_officers, set_officer
from storage.patrols import get_group_by_name, replace_slots
from storage.tips import get_tip, get_tip_code

log = logging.getLogger("tipline.operator")


@contextlib.asynccontextmanager
async def operator_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """The database migrated, one transaction around the command, the pool closed after it."""
    try:
        await runtime.prepare()
        async with runtime.db.transaction() as db:
            yield db
    finally:
        await runtime.db.dispose()


def _stored_code(typed: str) -> str:
    code = parse_code(typed)
    if code is None:
        raise SettingsError(f"tipline: {typed!r} is not a tip code (like ABCD-EFGH)")
    return code


async def set_status(runtime: Runtime, code: str, status: str, note: str | None) -> str:
    """Change a tip's status; a contactable tipster gets a neutral notice."""
    stored = _stored_code(code)
    async with operator_session(runtime) as db:
        tip = await get_tip(db, stored)
        if tip is None:
            raise SettingsError(f"tipline: no tip {show_code(stored)}")
        ctx = runtime.context()
        await change_status(db, ctx, tip, status=TipStatus(status), public_note=note)
        await add_audit(db, officer_id=None, action=f"status:{status}", tip_id=tip.id, now=ctx.now)
    return f"tipline: tip {show_code(stored)} is now {status}"


def parse_scope(typed: str) -> str:
    """The unit an officer covers, as typed after --scope (the old 'commune:' prefix allowed)."""
    return typed.removeprefix("commune:").removeprefix("area:")


async def bot_username(settings: Settings) -> str:
    """The bot's @name from Telegram, for invite links; empty when unknown."""
    if settings.telegram_token is None:
        return ""
    root = settings.telegram_api_url
    bot = Bot(
        settings.telegram_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
    )
    try:
        async with bot:
            return bot.username or ""
    except TelegramError as error:
        log.warning("cannot ask Telegram for the bot's name: %s", type(error).__name__)
        return ""


async def invite(runtime: Runtime, settings: Settings, name: str, scope: str, admin: bool) -> str:
    """Create an officer and print their one-time invite (with a deep link when possible)."""
    area = parse_scope(scope)
    if not name.strip():
        raise SettingsError("tipline: --name is empty")
    runtime.bot_username = await bot_username(settings)
    async with operator_session(runtime) as db:
        ctx = runtime.context()
        try:
            officer, code = await invite_officer(
                db, ctx, name=name.strip(), area=area, is_admin=admin, created_by=None
            )
        except ValueError:
            raise SettingsError(
                f"tipline: no unit {area!r} in the areas file (tipline areas list shows the codes)"
            ) from None
        shown = invite_text(ctx, "vi", officer, code)
    if not runtime.bot_username:
        shown += "\n" + _no_link_reason(settings)
    return shown


def _no_link_reason(settings: Settings) -> str:
    if settings.telegram_token is None:
        return "(The t.me link needs TIPLINE_TELEGRAM_TOKEN to know the bot's name.)"
    return "(Telegram did not tell the bot's name, so there is no t.me link; see the warning.)"


def _state(runtime: Runtime, officer: Officer) -> str:
    if officer.revoked_at is not None:
        return f"revoked {officer.revoked_at.astimezone(runtime.timezone):%Y-%m-%d}"
    return f"enrolled via {officer.channel}" if officer.chat else "invited"


async def officers(runtime: Runtime) -> str:
    """One line per officer: id, name, scope, admin, state, alerts (never their chat)."""
    top = runtime.catalog.root.code
    async with operator_session(runtime) as db:
        rows = [
            f"{o.id:>4}  {o.name:<28} {o.area or top:<20} {'admin' if o.is_admin else '':<5}"
            f"  {_state(runtime, o):<22} alerts={o.alerts.value}"
            for o in await list_officers(db)
        ]
    return "\n".join(rows) or "tipline: no officers yet (tipline officer invite --help)"


async def revoke(runtime: Runtime, officer_id: int) -> str:
    """Take an officer's access away; it takes effect on their next message."""
    async with operator_session(runtime) as db:
        officer = await get_officer(db, officer_id)
        if officer is None:
            raise SettingsError(f"tipline: no officer {officer_id}")
        if officer.revoked_at is not None:
            return f"tipline: officer {officer_id} ({officer.name}) was already revoked"
        now = runtime.context().now
        await set_officer(db, officer, revoked_at=now)
        await end_desk_sessions(db, now=now, officer_id=officer.id)
        await add_audit(
            db, officer_id=None, action="revoke", now=now, detail=f"officer {officer_id}"
        )
    return f"tipline: officer {officer_id} ({officer.name}) revoked"


async def desk_link(runtime: Runtime, settings: Settings, officer_id: int) -> str:
    """A one-time link that signs an enrolled officer in to the web desk, to pass on to them."""
    public = settings.desk_address()
    if public is None:
        raise SettingsError(
            "tipline: set TIPLINE_DESK_URL (the desk's public address, e.g. https://tips.example.org)"
            " or TIPLINE_DESK_LISTEN, so the link points somewhere"
        )
    runtime.desk_url = public
    async with operator_session(runtime) as db:
        officer = await get_officer(db, officer_id)
        if officer is None or officer.revoked_at is not None:
            raise SettingsError(f"tipline: no active officer {officer_id}")
        link = await new_sign_in_link(db, runtime.context(), officer)
    return f"tipline: for {officer.name}, one use within 10 minutes:\n{link}"


async def audit(runtime: Runtime, officer_id: int | None, code: str | None) -> str:
    """The audit log, oldest first, optionally for one officer and/or one tip."""
    async with operator_session(runtime) as db:
        tip_id = await _tip_id(db, code) if code else None
        names = {o.id: o.name for o in await list_officers(db)}
        lines = []
        for row in await list_audit(db, officer_id=officer_id, tip_id=tip_id):
            who = f"#{row.officer_id} {names.get(row.officer_id, '?')}" if row.officer_id else ""
            tip_code = await get_tip_code(db, row.tip_id) if row.tip_id else None
            when = row.created_at.astimezone(runtime.timezone)
            shown = show_code(tip_code) if tip_code else "-"
            lines.append(
                f"{when:%Y-%m-%d %H:%M:%S}  {who or 'operator':<24} {row.action:<22} "
                f"{shown:<10} {row.detail or ''}".rstrip()
            )
    return "\n".join(lines) or "tipline: nothing in the audit log for that"


async def _tip_id(db: AsyncSession, typed: str) -> int:
    tip = await get_tip(db, _stored_code(typed))
    if tip is None:
        raise SettingsError(f"tipline: no tip {typed}")
    return tip.id


async def create_patrol(
    runtime: Runtime, settings: Settings, name: str, commune: str, officer_id: int | None
) -> str:
    """A patrol group for a commune, with its join code (and link, when the bot is known)."""
    if runtime.catalog.area(commune) is None:
        raise SettingsError(
            f"tipline: no area {commune!r} in the areas file (tipline areas list shows the codes)"
        )
    runtime.bot_username = await bot_username(settings)
    async with operator_session(runtime) as db:
        officer = await get_officer(db, officer_id) if officer_id is not None else None
        if officer_id is not None and (officer is None or officer.revoked_at is not None):
            raise SettingsError(f"tipline: no active officer {officer_id}")
        ctx = runtime.context()
        made = await create_group(db, ctx, name=name.strip(), area=commune, officer=officer)
        if made is None:
            raise SettingsError(f"tipline: there is already a group called {name!r}")
        return created_text(ctx, "vi", *made)


async def schedule_patrol(runtime: Runtime, name: str, plan: str) -> str:
    """Set a group's weekly plan from e.g. "Mon-Sun 21:00-23:30"."""
    slots = parse_schedule(plan)
    if slots is None:
        raise SettingsError(
            f"tipline: {plan!r}: expected e.g. 'Mon-Sun 21:00-23:30' or 'T2-CN ...'"
        )
    async with operator_session(runtime) as db:
        group = await get_group_by_name(db, name)
        if group is None:
            raise SettingsError(f"tipline: no patrol group {name!r}")
        await replace_slots(db, group.id, slots)
    return f"tipline: {name}: {show_slots(slots)}"
