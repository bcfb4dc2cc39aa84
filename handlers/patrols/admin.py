"""Officers and patrols: groups, weekly plans, coverage views, and missed or forgotten shifts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.coverage import (
    Coverage,
    coverage,
    group_plan,
    patrol_line,
    read_patrol_records,
)
from handlers.common.notices import tell_officer
from handlers.common.schedule import (
    DAY_NAMES,
    Planned,
    local_days,
    next_planned,
    parse_schedule,
    show_slots,
)
from handlers.common.scopes import scope_name, scope_of
from handlers.common.texts import N_, text, text_n
from handlers.common.types import Context, Kind, Option, Priority, Reply
from handlers.conversation.buttons import CommentMissed, PatrolsReport, RemoveMember
from handlers.conversation.turn import StepName, Turn, back_to_draft
from handlers.patrols.shifts import (
    JOIN_LINK_PREFIX,
    group_officers,
    join_hash,
    membership,
    new_join_code,
)
from storage.models import Officer, PatrolGroup, PatrolMember, PatrolPoint, Shift
from storage.patrols import (
    add_group,
    add_missed,
    close_missed,
    end_shift,
    get_group,
    get_group_by_name,
    get_member,
    get_missed,
    list_all_members,
    list_groups,
    list_members,
    list_open_shifts,
    list_slots,
    open_shift_of,
    replace_slots,
    set_member,
)

# A shift nobody closed ends itself this long after its planned end (or its start, if unplanned).
AUTO_CLOSE_AFTER_PLAN = timedelta(hours=2)
AUTO_CLOSE_UNPLANNED = timedelta(hours=8)
# How far back the missed-patrol check looks, so a bot that was down still raises each alert.
LOOK_BACK = timedelta(days=2)
PERIODS = {"today": N_("patrols.today"), "week": N_("patrols.week")}
POINT_KINDS = {
    "start": N_("point.start"),
    "checkpoint": N_("point.checkpoint"),
    "incident": N_("point.incident"),
}


async def create_group(
    db: AsyncSession, ctx: Context, *, name: str, area: str, officer: Officer | None
) -> tuple[PatrolGroup, str] | None:
    """A new group looked after by `officer` (or its area's officers), and its join code.

    None if the name is taken.
    """
    if await get_group_by_name(db, name) is not None:
        return None
    code = new_join_code()
    group = await add_group(
        db,
        name=name,
        area=area,
        officer_id=officer.id if officer else None,
        join_hash=join_hash(ctx, code),
        now=ctx.now,
    )
    return group, code


def created_text(ctx: Context, lang: str, group: PatrolGroup, code: str) -> str:
    """What the officer reads (and hands out) after creating a group."""
    link = ""
    if ctx.bot_username:
        url = f"https://t.me/{ctx.bot_username}?start={JOIN_LINK_PREFIX}{code}"
        link = text(lang, "invite.link", url=url)
    area = scope_name(ctx, lang, group.area)
    return text(lang, "patrol.created", name=group.name, area=area, code=code, link=link)


def _name_and_rest(args: str) -> tuple[str, str]:
    name, _, rest = args.partition("|")
    return name.strip(), rest.strip()


async def new_patrol(turn: Turn) -> list[Reply]:
    """/newpatrol NAME (officers over several areas: NAME | area-code): a group and its code."""
    assert turn.officer is not None
    name, typed = _name_and_rest(turn.msg.args)
    area = turn.ctx.catalog.area(typed or (turn.officer.area or ""))
    if not name or len(name) > 80 or area is None:
        return [turn.say("patrol.usage_new", example=turn.ctx.catalog.areas[0].code)]
    if not scope_of(turn.ctx, turn.officer).covers(area.code, top_only=False):
        return [turn.say("not.allowed")]
    made = await create_group(turn.db, turn.ctx, name=name, area=area.code, officer=turn.officer)
    if made is None:
        return [turn.say("patrol.exists", name=name)]
    return [Reply(created_text(turn.ctx, turn.lang, *made))]


async def _group_in_scope(turn: Turn, name: str) -> PatrolGroup | None:
    assert turn.officer is not None
    group = await get_group_by_name(turn.db, name)
    if group is None or not scope_of(turn.ctx, turn.officer).covers(group.area, top_only=False):
        return None
    return group


async def _named_group(turn: Turn) -> tuple[str, PatrolGroup | None]:
    """The group named after the command, if it is in the officer's scope."""
    name = turn.msg.args.strip()
    return name, (await _group_in_scope(turn, name) if name else None)


async def schedule(turn: Turn) -> list[Reply]:
    """/schedule: an officer sets a group's plan (NAME | plan) or reads it (NAME); anyone in a
    patrol group reads their own group's plan and its next shift."""
    asked = turn.msg.args.strip()
    if turn.officer is not None and asked:
        return await _officer_schedule(turn)
    member = await membership(turn)
    group = await get_group(turn.db, member.group_id) if member else None
    if group is None:
        return [turn.say(N_("schedule.usage") if turn.officer else N_("not.member"))]
    plan = await _plan_of(turn, group)
    return [turn.say("schedule.officers_only"), plan] if asked else [plan]


async def _officer_schedule(turn: Turn) -> list[Reply]:
    """NAME | Mon-Sun 21:00-23:30 replaces the group's weekly plan; NAME alone shows it."""
    name, plan = _name_and_rest(turn.msg.args)
    slots = parse_schedule(plan) if plan else None
    group = await _group_in_scope(turn, name) if name else None
    if group is not None and "|" not in turn.msg.args:
        return [await _plan_of(turn, group)]
    if not name or slots is None:
        return [turn.say("schedule.usage")]
    if group is None:
        return [turn.say("patrol.not_found", name=name)]
    await replace_slots(turn.db, group.id, slots)
    return [turn.say("schedule.set", group=group.name, slots=show_slots(slots))]


async def _plan_of(turn: Turn, group: PatrolGroup) -> Reply:
    """The group's weekly plan and the shift under way or next, as its members read it."""
    slots = [(s.weekday, s.starts, s.ends) for s in await list_slots(turn.db, group.id)]
    upcoming = next_planned(slots, turn.ctx.timezone, turn.ctx.now)
    if upcoming is None:
        return turn.say("schedule.none", group=group.name)
    start, end = (m.astimezone(turn.ctx.timezone) for m in (upcoming.start, upcoming.end))
    key = N_("schedule.current") if start <= turn.ctx.now else N_("schedule.next")
    shift = turn.t(
        key, day=DAY_NAMES[start.weekday()], start=turn.ctx.local(start), end=f"{end:%H:%M}"
    )
    return turn.say("schedule.plan", group=group.name, slots=show_slots(slots), shift=shift)


async def members_view(turn: Turn) -> list[Reply]:
    """/members NAME: the group's members, each with a remove button."""
    name, group = await _named_group(turn)
    if group is None:
        return [turn.say("patrol.not_found", name=name)]
    members = await list_members(turn.db, group.id)
    if not members:
        return [turn.say("members.none", group=group.name)]
    options = tuple(
        Option(turn.t("button.remove", name=m.name or "?"), RemoveMember(m.id).pack())
        for m in members
    )
    return [Reply(turn.t("members.head", group=group.name), options, columns=2)]


async def admin_button(
    turn: Turn, button: CommentMissed | RemoveMember | PatrolsReport | None
) -> list[Reply]:
    """An officer's patrol button: comment a missed patrol, remove a member, a period's report."""
    match button:
        case CommentMissed(missed_id=missed_id):
            return await ask_missed_comment(turn, missed_id)
        case RemoveMember(member_id=member_id):
            return await remove_member(turn, member_id)
        case PatrolsReport(period=period):
            return await patrols_report(turn, period)
    return [turn.say("not.allowed")]


async def remove_member(turn: Turn, member_id: int) -> list[Reply]:
    """The remove button: re-checked against the officer's scope, then the member is out."""
    member = await get_member(turn.db, member_id)
    group = await _group_by_id_in_scope(turn, member.group_id) if member else None
    if member is None or group is None or member.left_at is not None:
        return [turn.say("not.allowed")]
    open_shift = await open_shift_of(turn.db, member.id)
    if open_shift is not None:
        await end_shift(turn.db, open_shift, now=turn.ctx.now, summary=None, auto=True)
    await set_member(turn.db, member, left_at=turn.ctx.now)
    return [turn.say("member.removed", name=member.name or "?", group=group.name)]


def _period(turn: Turn, which: str) -> tuple[datetime, datetime]:
    return local_days(turn.ctx.now, turn.ctx.timezone, 7 if which == "week" else 1)


async def patrols_view(turn: Turn) -> list[Reply]:
    """/patrols [today|week]: each group's numbers in the officer's scope."""
    return await patrols_report(turn, turn.msg.args.strip().lower())


async def patrols_report(turn: Turn, which: str) -> list[Reply]:
    """Each group's numbers for today or the last 7 days (anything else means today)."""
    assert turn.officer is not None
    which = which if which in PERIODS else "today"
    groups = await list_groups(turn.db, areas=turn.ctx.catalog.under(turn.officer.area))
    if not groups:
        return [turn.say("patrols.none")]
    since, until = _period(turn, which)
    records = await read_patrol_records(turn.db, since, until)
    lines = [turn.t("patrols.head", period=turn.t(PERIODS[which]))]
    for group in groups:
        lines += _numbers(turn, group, coverage(turn.ctx, group, records, since, until))
    return [Reply("\n".join(lines))]


def _numbers(turn: Turn, group: PatrolGroup, numbers: Coverage) -> list[str]:
    """A group's line of numbers, and its missed shifts nobody closed yet."""
    lines = [patrol_line(turn.lang, group.name, [numbers])]
    if numbers.open_missed:
        items = ", ".join(turn.ctx.local(m) for m in numbers.open_missed)
        lines.append(turn.t("patrols.open_missed", items=items))
    return lines


async def patrol_view(turn: Turn) -> list[Reply]:
    """/patrol NAME: the group's plan, its numbers for the last 7 days (counted as /patrols week
    counts them), and those days' last shifts with their route of checkpoints."""
    name, group = await _named_group(turn)
    if group is None:
        return [turn.say("patrol.not_found", name=name)]
    members = await list_members(turn.db, group.id)
    names = {m.id: m.name or "?" for m in members}
    since, until = _period(turn, "week")
    records = await read_patrol_records(turn.db, since, until, group_id=group.id)
    slots = sorted(records.slots.get(group.id, []))
    lines = [
        turn.tn(
            "patrol.head",
            len(members),
            group=group.name,
            area=scope_name(turn.ctx, turn.lang, group.area),
            slots=show_slots(slots) or turn.t("patrol.no_slots"),
        ),
        turn.t("patrols.head", period=turn.t(PERIODS["week"])),
        *_numbers(turn, group, coverage(turn.ctx, group, records, since, until)),
        turn.t("patrol.recent"),
    ]
    shifts = [s for s in records.shifts.get(group.id, []) if s.started_at >= since]
    points = records.points.get(group.id, [])
    for shift in shifts[-10:]:
        lines.append(_shift_line(turn, shift, names))
        lines += [_point_line(turn, p) for p in points if p.shift_id == shift.id]
    if not shifts:
        lines.append(turn.t("patrol.no_shifts"))
    return [Reply("\n".join(lines))]


def _shift_line(turn: Turn, shift: Shift, names: dict[int, str]) -> str:
    return turn.t(
        "patrol.shift",
        start=turn.ctx.local(shift.started_at),
        end=turn.ctx.local(shift.ended_at) if shift.ended_at else turn.t("patrol.open"),
        member=names.get(shift.member_id, "?"),
        late=turn.t("patrol.late") if shift.late else "",
        auto=turn.t("patrol.auto") if shift.auto_closed else "",
    )


def _point_line(turn: Turn, point: PatrolPoint) -> str:
    """One point of a route: when, what (an incident with its category), where (pin, 📷 photo,
    the place or the photo's caption), an incident's words, ⚠️ when far outside the district."""
    kind = turn.t(POINT_KINDS[point.kind])
    if point.category:
        named = turn.ctx.catalog.category(point.category)
        kind += f" ({named.name(turn.lang) if named else point.category})"
    pin = None
    if point.latitude is not None and point.longitude is not None:
        pin = f"📍 {point.latitude:.5f}, {point.longitude:.5f}"
    what = [pin, "📷" if point.photo else None, point.place]
    where = "".join(f" {part}" for part in what if part)
    extra = f" – {point.note}" if point.note else ""
    flag = " ⚠️" if point.far else ""
    return f"   {point.at.astimezone(turn.ctx.timezone):%H:%M} {kind}{where}{extra}{flag}"


# --- the scheduled check ---


async def check_patrols(db: AsyncSession, ctx: Context) -> dict[str, int]:
    """Raise each missed planned shift once, and close shifts left open too long."""
    return {"missed": await _raise_missed(db, ctx), "auto_closed": await _close_forgotten(db, ctx)}


async def _raise_missed(db: AsyncSession, ctx: Context) -> int:
    """Alert each group's officers once per planned shift nobody started in time."""
    since = ctx.now - LOOK_BACK
    records = await read_patrol_records(db, since, ctx.now)
    members: dict[int, list[PatrolMember]] = defaultdict(list)
    for member in await list_all_members(db, left_since=since):
        members[member.group_id].append(member)
    raised = 0
    for group in await list_groups(db, areas=None):
        raised_before = {m.planned_start for m in records.missed.get(group.id, [])}
        for planned in group_plan(ctx, group, records, since, ctx.now - ctx.limits.patrol_grace):
            if (
                planned.start in raised_before
                or _started_for(ctx, records.shifts.get(group.id, []), planned)
                # Nobody in the group when it began (none yet, or all gone): nobody missed it.
                or not _anyone_in(members[group.id], planned.start)
            ):
                continue
            missed = await add_missed(
                db, group_id=group.id, planned=(planned.start, planned.end), now=ctx.now
            )
            await _alert_missed(db, ctx, group, planned, missed.id)
            raised += 1
    return raised


def _anyone_in(members: list[PatrolMember], moment: datetime) -> bool:
    return any(m.joined_at <= moment and (m.left_at is None or m.left_at > moment) for m in members)


async def _close_forgotten(db: AsyncSession, ctx: Context) -> int:
    """End the shifts left open well past their planned end (or start, when unplanned)."""
    closed = 0
    for shift in await list_open_shifts(db):
        limit = (
            shift.planned_end + AUTO_CLOSE_AFTER_PLAN
            if shift.planned_end is not None
            else shift.started_at + AUTO_CLOSE_UNPLANNED
        )
        if ctx.now > limit:
            await end_shift(db, shift, now=ctx.now, summary=None, auto=True)
            closed += 1
    return closed


def _started_for(ctx: Context, shifts: list[Shift], planned: Planned) -> bool:
    on_time = planned.start + ctx.limits.patrol_grace
    return any(
        s.planned_start == planned.start
        or planned.start - timedelta(hours=1) <= s.started_at <= on_time
        for s in shifts
    )


async def _alert_missed(
    db: AsyncSession, ctx: Context, group: PatrolGroup, planned: Planned, missed_id: int
) -> None:
    for officer in await group_officers(db, ctx, group):
        lang = officer.language
        body = text_n(
            lang,
            "missed.alert",
            ctx.limits.patrol_grace_minutes,
            group=group.name,
            start=ctx.local(planned.start),
            end=planned.end.astimezone(ctx.timezone).strftime("%H:%M"),
        )
        button = Option(text(lang, "button.close_missed"), CommentMissed(missed_id).pack())
        reply = Reply(body, (button,))
        await tell_officer(db, officer.id, reply, now=ctx.now, priority=Priority.NOTICE)


async def ask_missed_comment(turn: Turn, missed_id: int) -> list[Reply]:
    """The alert's button: the officer's comment closes it (groups outside scope: not allowed)."""
    missed = await get_missed(turn.db, missed_id)
    group = await _group_by_id_in_scope(turn, missed.group_id) if missed else None
    if missed is None or group is None:
        return [turn.say("not.allowed")]
    if missed.closed_at is not None:
        return [turn.say("missed.already")]
    turn.detour(StepName.OFFICER_MISSED, missed=missed.id)
    start = turn.ctx.local(missed.planned_start)
    return [turn.say("missed.ask_comment", start=start, group=group.name)]


async def _group_by_id_in_scope(turn: Turn, group_id: int) -> PatrolGroup | None:
    group = await get_group(turn.db, group_id)
    return await _group_in_scope(turn, group.name) if group else None


async def answer_missed_comment(turn: Turn) -> list[Reply]:
    """Close the missed-patrol alert with the officer's comment, which is kept."""
    assert turn.officer is not None
    missed = await get_missed(turn.db, int(turn.detour_data.get("missed", 0)))
    comment = turn.msg.text.strip()[:1000] if turn.msg.kind is Kind.TEXT else ""
    if missed is None or missed.closed_at is not None:
        return await back_to_draft(turn, [turn.say("missed.already")])
    if not comment:
        return [turn.say("need.text")]
    await close_missed(
        turn.db, missed, officer_id=turn.officer.id, comment=comment, now=turn.ctx.now
    )
    return await back_to_draft(turn, [turn.say("missed.closed")])
