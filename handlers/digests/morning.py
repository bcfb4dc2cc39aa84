"""Morning digests: who is due one, what it says, and the claim that makes it happen once.

The job runs every minute. It works out, for each officer, the digests whose time has come
and that no claim row records yet: those within the catch-up window go out (marked late if
the bot was down at the time), older ones are recorded as skipped, and an officer who switched
digests off gets an 'off' claim. The claim and the outbox message share one transaction, and a
claim unique on (officer, kind, period) lets only one of several processes win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.charts import category_chart
from handlers.common.codes import show_code
from handlers.common.coverage import patrol_line
from handlers.common.notices import STATUS_NAMES
from handlers.common.schedule import parse_clock, planned_between
from handlers.common.scopes import scope_name
from handlers.common.texts import N_, text, text_n
from handlers.common.tip_text import excerpt
from handlers.common.types import Chart, Context, Option, Priority, Reply
from handlers.conversation.buttons import DigestChoice, PatrolsReport, TipList
from handlers.conversation.turn import Turn
from handlers.digests.facts import MorningFacts, ScopeNumbers, Window
from storage.digests import attach_outbox, claim_digests, latest_claims, list_digest_officers
from storage.models import Officer
from storage.officers import set_officer
from storage.outbox import add_outbox_to_officers

DAILY, WEEKLY = "daily", "weekly"
PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}
# Far enough back to find last Monday's weekly digest after a long outage (to record it skipped).
LOOK_BACK = timedelta(days=8)
# A digest queued this long after its minute is marked late: the bot was down or busy.
LATE_AFTER = timedelta(minutes=10)
LISTED = 5  # lines of one list before the rest becomes "… and N more"
AREAS_LISTED = 10
# Why a platform refused for good (the channels' DeliveryError reasons), as the admins read it.
REASONS = {
    "blocked by the user": N_("digest.reason.blocked"),
    "chat not found": N_("digest.reason.gone"),
}
HEADINGS = {
    DAILY: N_("digest.head.daily"),
    WEEKLY: N_("digest.head.weekly"),
    "now": N_("digest.head.now"),
}


@dataclass(frozen=True, slots=True)
class Due:
    """One officer's digest for one period, and what becomes of it."""

    officer: Officer
    kind: str
    period: str  # the local date of the scheduled moment
    moment: datetime
    state: str  # sent, late, skipped, off
    reply: Reply | None = None


def plan_digests(
    officers: list[Officer], latest: dict[tuple[int, str], str], ctx: Context
) -> list[Due]:
    """Every digest whose moment has passed and that no claim records yet."""
    kinds = (DAILY, WEEKLY) if ctx.limits.weekly_digest else (DAILY,)
    catch_up = timedelta(hours=ctx.limits.digest_catch_up_hours)
    dues = []
    for officer in officers:
        at = officer.digest_time or ctx.limits.digest_time
        since = max(officer.enrolled_at or ctx.now, ctx.now - LOOK_BACK)
        for kind in kinds:
            days = range(7) if kind == DAILY else (0,)
            slots = [(day, at, at) for day in days]
            last = latest.get((officer.id, kind), "")
            until = ctx.now + timedelta(microseconds=1)  # a digest due this very second counts
            for moment in (p.start for p in planned_between(slots, ctx.timezone, since, until)):
                period = moment.astimezone(ctx.timezone).date().isoformat()
                if period <= last:
                    continue
                if not officer.digests:
                    state = "off"
                elif moment < ctx.now - catch_up:
                    state = "skipped"
                else:
                    state = "late" if moment < ctx.now - LATE_AFTER else "sent"
                dues.append(Due(officer, kind, period, moment, state))
    return dues


async def prepare_digests(db: AsyncSession, ctx: Context) -> list[Due]:
    """The digests due now, each with its message built (read-only: nothing is claimed yet)."""
    dues = plan_digests(await list_digest_officers(db), await latest_claims(db), ctx)
    facts = MorningFacts(db, ctx)
    prepared = []
    for due in dues:
        reply = None
        if due.state in ("sent", "late"):
            window = Window(due.moment - PERIODS[due.kind], due.moment)
            late = due.moment if due.state == "late" else None
            reply = await digest_reply(facts, due.officer, due.kind, window, late=late)
        prepared.append(Due(due.officer, due.kind, due.period, due.moment, due.state, reply))
    return prepared


async def queue_digests(db: AsyncSession, ctx: Context, dues: list[Due]) -> int:
    """Claim each prepared digest and queue its message in the same transaction.

    Returns how many messages were queued; a digest another process claimed first is dropped.
    """
    claimed = await claim_digests(
        db, [((d.officer.id, d.kind, d.period), d.state) for d in dues], now=ctx.now
    )
    sending = [d for d in dues if d.reply and (d.officer.id, d.kind, d.period) in claimed]
    rows = await add_outbox_to_officers(
        db,
        [(d.officer.id, d.reply.to_json()) for d in sending if d.reply],
        now=ctx.now,
        priority=Priority.DIGEST,
    )
    await attach_outbox(
        db,
        [
            (claimed[d.officer.id, d.kind, d.period], row)
            for d, row in zip(sending, rows, strict=True)
        ],
    )
    return len(rows)


async def digest_reply(
    facts: MorningFacts, officer: Officer, kind: str, window: Window, *, late: datetime | None
) -> Reply:
    """One officer's digest: the text in their language, the chart, the buttons."""
    numbers = await facts.numbers(officer.area, window, admin=officer.is_admin)
    ctx, lang = facts.ctx, officer.language
    named = scope_name(ctx, lang, officer.area)
    where = named[:1].upper() + named[1:]  # it starts a title here, not a sentence
    lines = [
        text(
            lang,
            HEADINGS[kind],
            date=window.end.astimezone(ctx.timezone).strftime("%d/%m"),
            scope=where,
            start=ctx.local(window.start),
            end=ctx.local(window.end),
        )
    ]
    if late is not None:
        lines.append(text(lang, "digest.late", when=ctx.local(late)))
    lines += _tip_lines(ctx, lang, numbers, below=_level_below(ctx, lang, officer.area))
    lines += _standing_lines(ctx, lang, numbers)
    lines += _patrol_lines(ctx, lang, numbers)
    lines += _unreachable_lines(ctx, lang, numbers)
    return Reply(
        "\n".join(lines),
        _buttons(lang, kind),
        columns=2,
        chart=_chart(ctx, lang, numbers, where),
    )


def _change(now: int, before: int) -> str:
    difference = now - before
    return f"+{difference}" if difference > 0 else ("±0" if difference == 0 else f"−{-difference}")


def _level_below(ctx: Context, lang: str, area: str | None) -> str | None:
    """What the units just under an officer's unit are called, if it has any."""
    unit = ctx.catalog.unit(area)
    if unit is None or not unit.children:
        return None
    return ctx.catalog.level_name(unit.depth + 1, lang) or text(lang, "level.any")


def _tip_lines(ctx: Context, lang: str, numbers: ScopeNumbers, *, below: str | None) -> list[str]:
    lines = [
        "",
        text(
            lang,
            "digest.new",
            count=numbers.new,
            before=numbers.new_before,
            change=_change(numbers.new, numbers.new_before),
        ),
    ]
    if numbers.by_category:
        items = " · ".join(
            f"{ctx.catalog.category_name(code, lang)} {now} ({_change(now, before)})"
            for code, now, before in numbers.by_category
        )
        lines.append(text(lang, "digest.by_category", items=items))
    if below and numbers.by_area:
        lines.append(_by_area(ctx, lang, numbers.by_area, below))
    if numbers.urgent:
        lines.append(text(lang, "digest.urgent", count=len(numbers.urgent)))
        lines += _capped(
            lang,
            [
                text(
                    lang,
                    "digest.urgent.line",
                    code=show_code(tip.code),
                    area=ctx.catalog.area_name(tip.area, lang),
                    status=text(lang, STATUS_NAMES[tip.status]),
                    excerpt=excerpt(tip.description),
                )
                for tip in numbers.urgent
            ],
        )
    return lines


def _by_area(ctx: Context, lang: str, by_area: list[tuple[str, int, int]], level: str) -> str:
    """The busiest units just below the officer's by name; the quiet rest as one count."""
    busiest = [(code, now, before) for code, now, before in by_area if now]
    items = [
        f"{ctx.catalog.area_name(code, lang)} {now} ({_change(now, before)})"
        for code, now, before in busiest[:AREAS_LISTED]
    ]
    rest = busiest[AREAS_LISTED:]
    if rest:
        others = sum(now for _, now, _ in rest)
        items.append(text(lang, "digest.other_areas", areas=len(rest), count=others, level=level))
    return text(lang, "digest.by_area", level=level, items=" · ".join(items) or "–")


def _standing_lines(ctx: Context, lang: str, numbers: ScopeNumbers) -> list[str]:
    ages = numbers.open_by_age
    lines = [
        "",
        text(
            lang,
            "digest.open",
            count=numbers.open_total,
            d0=ages.get(0, 0),
            d1=ages.get(1, 0),
            d3=ages.get(3, 0),
            d7=ages.get(7, 0),
        ),
    ]
    if numbers.overdue:
        hours = ctx.limits.overdue_hours
        lines.append(text(lang, "digest.overdue", count=numbers.overdue, hours=hours))
        lines += [
            text_n(
                lang,
                "digest.overdue.line",
                (ctx.now - tip.status_at).days,
                code=show_code(tip.code),
                area=ctx.catalog.area_name(tip.area, lang),
                category=ctx.catalog.category_name(tip.category, lang),
            )
            for tip in numbers.oldest_overdue
        ]
        hidden = numbers.overdue - len(numbers.oldest_overdue)
        if hidden > 0:
            lines.append(text(lang, "digest.more", count=hidden))
    if numbers.questions_waiting or numbers.answers_unread:
        codes = ", ".join(show_code(code) for code in numbers.answers_unread[:LISTED]) or "–"
        if len(numbers.answers_unread) > LISTED:
            codes += ", …"
        lines.append(
            text(
                lang,
                "digest.thread",
                questions=numbers.questions_waiting,
                answers=len(numbers.answers_unread),
                codes=codes,
            )
        )
    return lines


def _patrol_lines(ctx: Context, lang: str, numbers: ScopeNumbers) -> list[str]:
    """All groups' totals, then each group (a few) or only those that need a look (many)."""
    if not numbers.patrols:
        return []
    counts = [count for _, count in numbers.patrols]
    total = patrol_line(lang, text_n(lang, "digest.patrols.all", len(counts)), counts)
    lines = ["", text(lang, "digest.patrols"), total]
    shown = numbers.patrols
    if len(shown) > LISTED:
        shown = sorted(
            ((g, c) for g, c in shown if c.missed or c.late or c.incidents),
            key=lambda item: (-item[1].missed, -item[1].late, -item[1].incidents, item[0].name),
        )
        if shown:
            lines.append(text(lang, "digest.patrols.attention"))
    lines += _capped(lang, ["• " + patrol_line(lang, g.name, [c]) for g, c in shown])
    if numbers.open_missed:
        lines.append(text(lang, "digest.missed"))
        lines += _capped(
            lang, [f"• {group.name} {ctx.local(start)}" for group, start in numbers.open_missed]
        )
    return lines


def _capped(lang: str, lines: list[str]) -> list[str]:
    """A list kept short enough to read on a phone at 7 am: the rest is a count."""
    if len(lines) <= LISTED:
        return lines
    return [*lines[: LISTED - 1], text(lang, "digest.more_items", count=len(lines) - LISTED + 1)]


def _unreachable_lines(ctx: Context, lang: str, numbers: ScopeNumbers) -> list[str]:
    if not numbers.unreachable:
        return []
    lines = []
    for officer in numbers.unreachable:
        since = ctx.local(officer.unreachable_at) if officer.unreachable_at else "–"
        reason = REASONS.get(officer.unreachable_reason or "", N_("digest.reason.other"))
        lines.append(
            text(
                lang,
                "digest.unreachable.line",
                name=officer.name,
                reason=text(lang, reason),
                since=since,
            )
        )
    return ["", text(lang, "digest.unreachable"), *_capped(lang, lines)]


def _buttons(lang: str, kind: str) -> tuple[Option, ...]:
    weekly = kind == WEEKLY
    period = "week" if weekly else "today"
    patrols = N_("digest.button.patrols.week") if weekly else N_("digest.button.patrols.today")
    return (
        Option(text(lang, "digest.button.new"), TipList("new", 0).pack()),
        Option(text(lang, "digest.button.overdue"), TipList("overdue", 0).pack()),
        Option(text(lang, "digest.button.open"), TipList("open", 0).pack()),
        Option(text(lang, patrols), PatrolsReport(period).pack()),
    )


def _chart(ctx: Context, lang: str, numbers: ScopeNumbers, where: str) -> Chart:
    """Tips per day for 14 days, stacked by category."""
    title = text(lang, "digest.chart.title", scope=where)
    return category_chart(ctx.catalog, lang, numbers.chart_days, numbers.chart, title)


# --- the officer's /digest command ---


async def digest_command(turn: Turn) -> list[Reply]:
    """/digest, /digest time HH:MM, /digest off, /digest on, /digest now."""
    assert turn.officer is not None
    action, _, value = turn.msg.args.strip().lower().partition(" ")
    if action in ("", "status"):
        return [_settings(turn, turn.officer)]
    if action in ("off", "on"):
        return await switch_digest(turn, enabled=action == "on")
    if action == "now":
        return await digest_now(turn)
    if action in ("time", "at", "gio", "giờ"):
        clock = parse_clock(value)
        if clock is None:
            return [turn.say("digest.bad_time", value=value[:20])]
        await set_officer(turn.db, turn.officer, digest_time=clock, digests=True)
        return [turn.say("digest.time_set", time=clock)]
    return [turn.say("digest.usage")]


def _settings(turn: Turn, officer: Officer) -> Reply:
    at = officer.digest_time or turn.ctx.limits.digest_time
    state = turn.t("digest.state.on") if officer.digests else turn.t("digest.state.off")
    default = "" if officer.digest_time else turn.t("digest.default")
    switch = (
        turn.option("digest.button.off", DigestChoice("off").pack())
        if officer.digests
        else turn.option("digest.button.on", DigestChoice("on").pack())
    )
    options = (turn.option("digest.button.now", DigestChoice("now").pack()), switch)
    return Reply(turn.t("digest.settings", state=state, time=at, default=default), options)


async def digest_button(turn: Turn, button: DigestChoice | None) -> list[Reply]:
    """/digest's buttons: a digest now, or the morning digest on or off."""
    match button:
        case DigestChoice(choice="now"):
            return await digest_now(turn)
        case DigestChoice(choice="on" | "off" as switch):
            return await switch_digest(turn, enabled=switch == "on")
    return [turn.say("not.allowed")]


async def switch_digest(turn: Turn, *, enabled: bool) -> list[Reply]:
    """Switch the officer's scheduled digests on or off."""
    assert turn.officer is not None
    await set_officer(turn.db, turn.officer, digests=enabled)
    at = turn.officer.digest_time or turn.ctx.limits.digest_time
    return [turn.say(N_("digest.on_done") if enabled else N_("digest.off_done"), time=at)]


async def digest_now(turn: Turn) -> list[Reply]:
    """A digest of the last 24 hours, right now; it does not count as the morning's."""
    assert turn.officer is not None
    window = Window(turn.ctx.now - PERIODS[DAILY], turn.ctx.now)
    facts = MorningFacts(turn.db, turn.ctx)
    return [await digest_reply(facts, turn.officer, "now", window, late=None)]
