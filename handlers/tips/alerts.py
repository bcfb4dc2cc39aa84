"""Alerts to officers: a new tip at once, an unacknowledged urgent one escalated a level up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.notices import tell_officer
from handlers.common.scopes import top_only_mark, unit_codes
from handlers.common.texts import N_, text, text_n
from handlers.common.tip_text import excerpt
from handlers.common.types import Context, Option, Priority, Reply
from handlers.conversation.buttons import Acknowledge, OpenTip
from storage.models import Officer, Tip
from storage.officers import list_alert_recipients
from storage.tips import list_unacknowledged_urgent, set_tip_flags


def alert_reply(ctx: Context, officer: Officer, tip: Tip, key: str) -> Reply:
    """An alert in the officer's language, with Acknowledge (urgent only) and Open buttons."""
    lang = officer.language
    category, area = ctx.catalog.category(tip.category), ctx.catalog.area(tip.area)
    body = text(
        lang,
        key,
        code=show_code(tip.code),
        category=category.name(lang) if category else tip.category,
        area=area.name(lang) if area else tip.area,
        top_only=top_only_mark(ctx, lang, tip),
        excerpt=excerpt(tip.description),
        minutes=text_n(lang, "count.minutes", ctx.limits.escalate_after_minutes),
    )
    buttons = [Option(text(lang, "button.open"), OpenTip(tip.id).pack())]
    if tip.urgent and tip.acknowledged_at is None:
        buttons.insert(0, Option(text(lang, "button.ack"), Acknowledge(tip.id).pack()))
    return Reply(body, tuple(buttons), columns=2)


async def alert_new_tip(db: AsyncSession, ctx: Context, tip: Tip) -> int:
    """Queue an alert for every officer in scope who wants one; returns how many."""
    line = [] if tip.top_only else list(ctx.catalog.line(tip.area))
    recipients = await list_alert_recipients(
        db, units=unit_codes(ctx.catalog, line), top=True, urgent=tip.urgent
    )
    key = N_("alert.urgent") if tip.urgent else N_("alert.new")
    priority = Priority.URGENT if tip.urgent else Priority.NOTICE
    for officer in recipients:
        reply = alert_reply(ctx, officer, tip, key)
        await tell_officer(db, officer.id, reply, now=ctx.now, priority=priority)
    return len(recipients)


async def escalate_unacknowledged(db: AsyncSession, ctx: Context) -> int:
    """Send the level above every urgent tip nobody acknowledged in time; returns how many."""
    waited = timedelta(minutes=ctx.limits.escalate_after_minutes)
    tips = await list_unacknowledged_urgent(db, filed_before=ctx.now - waited)
    for tip in tips:
        for officer in await _level_above(db, ctx, tip):
            reply = alert_reply(ctx, officer, tip, N_("alert.escalated"))
            await tell_officer(db, officer.id, reply, now=ctx.now, priority=Priority.URGENT)
        await set_tip_flags(db, tip, escalated_at=ctx.now)
    return len(tips)


async def _level_above(db: AsyncSession, ctx: Context, tip: Tip) -> list[Officer]:
    """The officers of the nearest unit above the tip's area that has any (the top unit's,
    for a tip kept from the lower units)."""
    catalog = ctx.catalog
    above = [catalog.root] if tip.top_only else list(catalog.line(tip.area))[1:]
    for unit in above:
        top = unit is catalog.root
        units = unit_codes(catalog, [unit])
        officers = await list_alert_recipients(db, units=units, top=top, urgent=True)
        if officers:
            return officers
    return []
