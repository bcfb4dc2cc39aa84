"""What the web desk shows an officer, as plain data: the queue's rows and one tip in full.

The desk (bot/desk) renders these; every tip is re-checked against the officer's scope here,
and every tip shown is an audit row, as in the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.catalog import BoundingBox
from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import may_see, scope_of, top_only_mark
from handlers.common.texts import N_, text
from handlers.common.tip_text import excerpt, when_label
from handlers.common.types import Context, MediaKind
from handlers.triage.actions import UNDO_TIME, Acting, undoable
from handlers.triage.likeness import Likely, likely_duplicates
from handlers.triage.listing import Listing
from handlers.triage.queue import age, overdue_before
from storage.finding import count_unread_answers, find_tips
from storage.models import Attachment, Officer, ThreadRole, Tip
from storage.officers import get_officer, list_officers, officer_names
from storage.thread import list_thread, mark_answers_read
from storage.tips import get_contact, get_tip_by_id, is_overdue, standing

QUEUE_PAGE_SIZE = 25
ROW_EXCERPT_CHARS = 140


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One tip on the queue: enough to choose it without opening it."""

    tip_id: int
    code: str
    status: str
    status_name: str
    category: str
    area: str
    age: str
    urgent: bool
    overdue: bool
    top_only: bool
    assignee: str
    excerpt: str
    unread: int  # the tipster's answers nobody has read yet


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue and where it sits among the pages, with whom tips may go to."""

    rows: tuple[QueueRow, ...]
    total: int
    page: int
    pages: int
    colleagues: tuple[Assignee, ...] = ()
    more: bool = False  # more tips match than were counted (`total` is the count's limit)


async def queue_page(
    db: AsyncSession, ctx: Context, officer: Officer, listing: Listing
) -> QueuePage:
    """The tips in this officer's scope the listing asks for: open ones urgent and overdue
    first, then the oldest; then the others, newest first."""
    late = overdue_before(ctx)
    found = await find_tips(
        db,
        scope_of(ctx, officer),
        listing.wanted(ctx, officer),
        overdue_before=late,
        offset=(listing.page - 1) * QUEUE_PAGE_SIZE,
        limit=QUEUE_PAGE_SIZE,
    )
    tips = found.tips
    names = await officer_names(db, {t.assigned_officer_id for t in tips if t.assigned_officer_id})
    unread = await count_unread_answers(db, [tip.id for tip in tips])
    lang = officer.language
    rows = tuple(_row(ctx, lang, tip, names, late, unread=unread.get(tip.id, 0)) for tip in tips)
    pages = max(1, -(-found.total // QUEUE_PAGE_SIZE))
    people = tuple(await colleagues(db, ctx, officer))
    return QueuePage(rows, found.total, listing.page - 1, pages, people, more=found.more)


async def colleagues(db: AsyncSession, ctx: Context, officer: Officer) -> list[Assignee]:
    """The enrolled officers who see some of this officer's tips (a list's tips may go to them;
    each tip is checked again when given)."""
    mine = scope_of(ctx, officer).areas
    found = []
    for other in await list_officers(db, active_only=True):
        theirs = scope_of(ctx, other).areas
        if other.chat is not None and (mine is None or theirs is None or mine & theirs):
            found.append(Assignee(other.id, other.name))
    return found


async def undo_left(acting: Acting, tips: list[Tip]) -> int:
    """Seconds left to undo this officer's latest changes to these tips (0: none to undo)."""
    lefts = [
        UNDO_TIME - (acting.ctx.now - thing.at)
        for thing in [await undoable(acting, tip) for tip in tips]
        if thing is not None
    ]
    return max(0, int(min(lefts).total_seconds())) if lefts else 0


def _row(
    ctx: Context, lang: str, tip: Tip, names: dict[int, str], late: datetime, *, unread: int
) -> QueueRow:
    catalog = ctx.catalog
    return QueueRow(
        tip_id=tip.id,
        code=show_code(tip.code),
        status=tip.status.value,
        status_name=text(lang, STATUS_NAMES[tip.status]),
        category=catalog.category_name(tip.category, lang),
        area=catalog.area_name(tip.area, lang),
        age=age(lang, ctx.now - tip.created_at),
        urgent=tip.urgent,
        overdue=is_overdue(tip, overdue_before=late),
        top_only=tip.top_only,
        assignee=names.get(tip.assigned_officer_id or 0, ""),
        excerpt=excerpt(tip.description, ROW_EXCERPT_CHARS),
        unread=unread,
    )


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One change in the tip's history, as officers read it."""

    when: str
    who: str
    status: str
    assigned: str
    note: str
    public_note: str


@dataclass(frozen=True, slots=True)
class ThreadLine:
    """One message between the officers and the tipster."""

    when: str
    question: bool
    who: str
    text: str
    waiting: bool


# What an attachment is called on a tip's page, by its kind.
FILE_NAMES = {
    MediaKind.PHOTO: N_("desk.file.photo"),
    MediaKind.VIDEO: N_("desk.file.video"),
    MediaKind.VOICE: N_("desk.file.voice"),
    MediaKind.AUDIO: N_("desk.file.audio"),
    MediaKind.DOCUMENT: N_("desk.file.document"),
}


@dataclass(frozen=True, slots=True)
class FileLine:
    """One attachment: its number on the tip (from 1), kind, name, and the platform keeping it."""

    number: int
    kind: str
    label: str
    channel: str


@dataclass(frozen=True, slots=True)
class Assignee:
    """An officer the tip may be given to."""

    officer_id: int
    name: str


@dataclass(frozen=True, slots=True)
class TipPage:
    """One tip in full, with what the officer may do to it now."""

    tip_id: int
    code: str
    status: str
    status_name: str
    urgent: bool
    acknowledged: str
    top_only: str
    category: str
    area: str
    place: str
    latitude: float | None
    longitude: float | None
    box: BoundingBox | None  # the extent of the tip's area on the map, for drawing its pin
    when: str
    sent: str
    status_at: str
    assigned: str
    contact: bool
    description: str
    attachments: tuple[FileLine, ...]
    history: tuple[HistoryLine, ...]
    thread: tuple[ThreadLine, ...]
    original_code: str
    original_id: int | None
    assignees: tuple[Assignee, ...]
    standing: int
    undo_seconds: int  # how long this officer's last change may still be undone; 0: none
    likely: tuple[Likely, ...] = ()  # tips that may tell the same event


async def get_visible_tip(
    db: AsyncSession, ctx: Context, officer: Officer, tip_id: int
) -> Tip | None:
    """The tip, if it exists and is in this officer's scope (None either way: an officer never
    learns that a tip outside their scope exists)."""
    tip = await get_tip_by_id(db, tip_id)
    return tip if tip is not None and may_see(ctx, officer, tip) else None


async def tip_page(db: AsyncSession, ctx: Context, officer: Officer, tip: Tip) -> TipPage:
    """Everything about one tip; opening it is audited and reads its tipster's answers."""
    acting = Acting(db, ctx, officer)
    await acting.audit("view", tip)
    await mark_answers_read(db, tip.id, now=ctx.now)
    lang = officer.language
    original = await get_tip_by_id(db, tip.duplicate_of_id) if tip.duplicate_of_id else None
    shown_original = original if original is not None and may_see(ctx, officer, original) else None
    return TipPage(
        tip_id=tip.id,
        code=show_code(tip.code),
        status=tip.status.value,
        status_name=text(lang, STATUS_NAMES[tip.status]),
        urgent=tip.urgent,
        acknowledged=await _acknowledged(db, ctx, tip),
        top_only=top_only_mark(ctx, lang, tip).strip(" ·"),
        category=ctx.catalog.category_name(tip.category, lang),
        area=ctx.catalog.area_name(tip.area, lang),
        place=tip.place or "",
        latitude=tip.latitude,
        longitude=tip.longitude,
        box=ctx.catalog.box_of(tip.area),
        when=text(lang, when_label(tip.occurred)),
        sent=ctx.local(tip.created_at),
        status_at=ctx.local(tip.status_at),
        assigned=await _name(db, tip.assigned_officer_id),
        contact=await get_contact(db, tip.id) is not None,
        description=tip.description,
        attachments=tuple(_file_line(lang, a) for a in tip.attachments),
        history=tuple(_history(ctx, lang, tip)),
        thread=tuple(await _thread(db, ctx, tip)),
        original_code=show_code(shown_original.code) if shown_original else "",
        original_id=shown_original.id if shown_original else None,
        assignees=tuple(await _assignees(db, ctx, tip)),
        standing=int(standing(tip, overdue_before=overdue_before(ctx))),
        undo_seconds=await undo_left(acting, [tip]),
        likely=() if tip.duplicate_of_id else await likely_duplicates(db, ctx, officer, tip),
    )


def _file_line(lang: str, attachment: Attachment) -> FileLine:
    number = attachment.position + 1
    name = FILE_NAMES[MediaKind(attachment.kind)]
    return FileLine(number, attachment.kind, text(lang, name, number=number), attachment.channel)


async def _name(db: AsyncSession, officer_id: int | None) -> str:
    officer = await get_officer(db, officer_id) if officer_id is not None else None
    return officer.name if officer is not None else ""


async def _acknowledged(db: AsyncSession, ctx: Context, tip: Tip) -> str:
    if tip.acknowledged_at is None:
        return ""
    return f"{await _name(db, tip.acknowledged_by_id)} ({ctx.local(tip.acknowledged_at)})"


def _history(ctx: Context, lang: str, tip: Tip) -> list[HistoryLine]:
    return [
        HistoryLine(
            when=ctx.local(event.created_at),
            who=event.officer.name if event.officer is not None else "",
            status=text(lang, STATUS_NAMES[event.status]) if event.status is not None else "",
            assigned=event.assigned_officer.name if event.assigned_officer is not None else "",
            note=event.note or "",
            public_note=event.public_note or "",
        )
        for event in tip.events
    ]


async def _thread(db: AsyncSession, ctx: Context, tip: Tip) -> list[ThreadLine]:
    return [
        ThreadLine(
            when=ctx.local(message.created_at),
            question=message.role is ThreadRole.QUESTION,
            who=await _name(db, message.officer_id),
            text=message.text,
            waiting=message.role is ThreadRole.QUESTION and message.answered_at is None,
        )
        for message in await list_thread(db, tip.id)
    ]


async def _assignees(db: AsyncSession, ctx: Context, tip: Tip) -> list[Assignee]:
    return [
        Assignee(o.id, o.name)
        for o in await list_officers(db, active_only=True)
        if o.chat is not None and may_see(ctx, o, tip)
    ]
