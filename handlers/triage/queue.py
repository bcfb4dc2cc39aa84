"""The officer's queue: /tips as numbered lines, urgent and overdue first, then the oldest
open; and the way on after an action, the next tip of that queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import scope_of
from handlers.common.texts import N_, text_n
from handlers.common.tip_text import excerpt
from handlers.common.types import Context, Option, Reply
from handlers.conversation.buttons import NextTip, OpenTip, TipList
from handlers.conversation.turn import Turn
from storage.models import Officer, Tip
from storage.officers import officer_names
from storage.tips import Standing, is_overdue, list_tips, next_open_tip_id, standing

PAGE_SIZE = 8
LISTS = {
    "new": N_("which.new"),
    "open": N_("which.open"),
    "overdue": N_("which.overdue"),
    "all": N_("which.all"),
}
# A tip's text on its line: enough to recall it, short enough for two lines on a phone.
LINE_EXCERPT_CHARS = 60


def overdue_before(ctx: Context) -> datetime:
    """A tip whose status last changed before this is overdue now."""
    return ctx.now - timedelta(hours=ctx.limits.overdue_hours)


def category_and_area(turn: Turn, tip: Tip) -> tuple[str, str]:
    """The tip's category and commune as this officer reads them."""
    catalog = turn.ctx.catalog
    return catalog.category_name(tip.category, turn.lang), catalog.area_name(tip.area, turn.lang)


async def list_command(turn: Turn) -> list[Reply]:
    """/tips [new|open|overdue|all]: the first page of tips in the officer's scope."""
    which = turn.msg.args.strip().lower() or "open"
    if which not in LISTS:
        return [turn.say("tips.usage")]
    return [await tip_list(turn, which, 0)]


async def tip_list(turn: Turn, which: str, page: int) -> Reply:
    """A page of tips as numbered lines (status, age, who has it, the start of its text), each
    opened by the button of its number: the order of the queue, the urgent and overdue first."""
    assert turn.officer is not None
    late = overdue_before(turn.ctx)
    tips, total = await list_tips(
        turn.db,
        scope_of(turn.ctx, turn.officer),
        which=which,
        overdue_before=late,
        offset=page * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    label = turn.t(LISTS[which])
    if total == 0:
        return turn.say("tips.none", which=label)
    pages = -(-total // PAGE_SIZE)
    if not tips:  # a page button from before tips left the list: its last page now
        return await tip_list(turn, which, pages - 1)
    assigned = {t.assigned_officer_id for t in tips if t.assigned_officer_id is not None}
    names = await officer_names(turn.db, assigned)
    lines = [turn.t("tips.title", which=label, total=total, page=page + 1, pages=pages)]
    options = []
    for number, tip in enumerate(tips, 1):
        lines += ["", _line(turn, number, tip, names, late)]
        options.append(Option(f"{number} · {show_code(tip.code)}", OpenTip(tip.id).pack()))
    if page > 0:
        options.append(turn.option("page.prev", TipList(which, page - 1).pack()))
    if page < pages - 1:
        options.append(turn.option("page.next", TipList(which, page + 1).pack()))
    return Reply("\n".join(lines), tuple(options), columns=2)


def _line(turn: Turn, number: int, tip: Tip, names: dict[int, str], late: datetime) -> str:
    category, area = category_and_area(turn, tip)
    assignee = names.get(tip.assigned_officer_id) if tip.assigned_officer_id else None
    return turn.t(
        "tips.line",
        number=number,
        marks=("🚨 " if tip.urgent else "") + ("🔒 " if tip.top_only else ""),
        code=show_code(tip.code),
        category=category,
        area=area,
        status=turn.t(STATUS_NAMES[tip.status]),
        age=age(turn.lang, turn.ctx.now - tip.created_at),
        overdue=turn.t("tips.overdue") if is_overdue(tip, overdue_before=late) else "",
        assignee=turn.t("tips.assignee", name=assignee) if assignee else "",
        excerpt=excerpt(tip.description, LINE_EXCERPT_CHARS),
    )


def age(lang: str, since: timedelta) -> str:
    """How long ago a tip came in, in its largest whole unit: "3 ngày", "5 giờ", "20 phút"."""
    if since >= timedelta(days=1):
        return text_n(lang, "count.days", since.days)
    if since >= timedelta(hours=1):
        return text_n(lang, "count.hours", since.seconds // 3600)
    return text_n(lang, "count.minutes", max(1, since.seconds // 60))


@dataclass(frozen=True, slots=True)
class WayOn:
    """The buttons under an action's answer: the next tip of the queue, or this one again.
    Taken before the action changes the tip, so "next" starts from where the tip stood."""

    turn: Turn
    options: tuple[Option, ...]

    def say(self, key: str, /, **values: Any) -> Reply:
        """The action's answer from the catalogue, with the way on under it."""
        return Reply(self.turn.t(key, **values), self.options, columns=2)


def way_on(turn: Turn, tip: Tip) -> WayOn:
    """The way on from this tip, as it stands now (see WayOn)."""
    return WayOn(turn, (next_option(turn, tip), turn.option("button.open", OpenTip(tip.id).pack())))


def next_option(turn: Turn, tip: Tip) -> Option:
    """The "next tip" button, holding where this tip stands in the queue now."""
    stands = standing(tip, overdue_before=overdue_before(turn.ctx))
    return turn.option("button.next", NextTip(int(stands), tip.id).pack())


async def next_tip_id(
    db: AsyncSession, ctx: Context, officer: Officer, tip: Tip, stood: int
) -> int | None:
    """The open tip in the officer's scope after this one, from where it stood; None at the
    end of the queue."""
    return await next_open_tip_id(
        db,
        scope_of(ctx, officer),
        after=tip,
        # Any other number is a forged button's or link's: taken as from outside the queue.
        stood=Standing(stood) if 0 <= stood <= Standing.DONE else Standing.DONE,
        overdue_before=overdue_before(ctx),
    )


def queue_end(turn: Turn, tip: Tip) -> Reply:
    """No open tip after this one: said, with the list to go back over what was skipped."""
    back = turn.option("button.queue", TipList("open", 0).pack())
    return Reply(turn.t("queue.end", code=show_code(tip.code)), (back,))
