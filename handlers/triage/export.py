"""/export: the officer's tips as an Excel file in their language, with their history and the
thread with each tipster, and nothing on who the tipsters are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import scope_name, scope_of
from handlers.common.texts import N_, text
from handlers.common.tip_text import when_label
from handlers.common.types import Context, Document, Reply
from handlers.conversation.turn import Turn
from handlers.triage.actions import Acting, acting_of
from handlers.triage.workbook import Column, Sheet, write_workbook
from storage.audit import add_audit
from storage.models import ThreadMessage, ThreadRole, Tip, TipEvent
from storage.officers import list_officers
from storage.tips import list_threads_between, list_tip_codes, list_tips_between

DEFAULT_DAYS = 30
# At most a year a file: a longer span is a query and a workbook too big to build in a request.
MAX_DAYS = 366
# Latitude and longitude as the tip view shows them: five decimals, about a metre.
COORDINATE_FORMAT = "0.00000"
# Columns are headed by message ids, read in the officer's language when the file is made.
TIP_COLUMNS = (
    Column(N_("export.column.code")),
    Column(N_("export.column.filed")),
    Column(N_("export.column.category")),
    Column(N_("export.column.area")),
    Column(N_("export.column.place")),
    Column(N_("export.column.latitude"), number_format=COORDINATE_FORMAT),
    Column(N_("export.column.longitude"), number_format=COORDINATE_FORMAT),
    Column(N_("export.column.occurred")),
    Column(N_("export.column.urgent")),
    Column(N_("export.column.top_only")),
    Column(N_("export.column.status")),
    Column(N_("export.column.status_at")),
    Column(N_("export.column.duplicate_of")),
    Column(N_("export.column.assigned")),
    Column(N_("export.column.taken_by")),
    Column(N_("export.column.taken_at")),
    Column(N_("export.column.attachments")),
    Column(N_("export.column.description"), long=True),
)
HISTORY_COLUMNS = (
    Column(N_("export.column.code")),
    Column(N_("export.column.at")),
    Column(N_("export.column.officer")),
    Column(N_("export.column.status")),
    Column(N_("export.column.assigned")),
    Column(N_("export.column.note"), long=True),
    Column(N_("export.column.public_note"), long=True),
)
THREAD_COLUMNS = (
    Column(N_("export.column.code")),
    Column(N_("export.column.at")),
    Column(N_("export.column.who")),
    Column(N_("export.column.kind")),
    Column(N_("export.column.text"), long=True),
)
ABOUT_COLUMNS = (Column(N_("export.column.item")), Column(N_("export.column.value"), long=True))


def parse_day(typed: str) -> date | None:
    """A date as 2026-11-30 or 30/11/2026, or None."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(typed, pattern).date()
        except ValueError:
            continue
    return None


class PeriodRefused(ValueError):
    """Days that cannot be exported, with the catalogue message that says why."""

    def __init__(self, said: str, **values: object) -> None:
        super().__init__(said)
        self.said = said
        self.values = values


def export_period(ctx: Context, start: str = "", end: str = "") -> tuple[date, date]:
    """The days typed for an export, checked: none, the last 30 days; no end, until today; no
    start, the 30 days up to the end. Refused if a day is not a date, the start is after the
    end, or the span is longer than a file should hold."""
    today = ctx.now.astimezone(ctx.timezone).date()
    last = day_of(end) if end.strip() else today
    first = day_of(start) if start.strip() else last - timedelta(days=DEFAULT_DAYS - 1)
    in_order(first, last)
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodRefused(N_("export.too_long"), most=MAX_DAYS, **_shown(first, last))
    return first, last


def day_of(typed: str) -> date:
    """The date typed (2026-11-30 or 30/11/2026); refused, saying what was typed, if none."""
    day = parse_day(typed.strip())
    if day is None:
        raise PeriodRefused(N_("export.bad_day"), typed=typed.strip()[:40])
    return day


def in_order(first: date, last: date) -> None:
    """Refuse days whose start comes after their end."""
    if last < first:
        raise PeriodRefused(N_("export.backwards"), **_shown(first, last))


def local_span(ctx: Context, first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of the first day to the start of the day after the last, on the local
    clock: the moments filed "in those days" as the officers live them."""
    zone = ctx.timezone
    return datetime.combine(first, time.min, zone), datetime.combine(
        last + timedelta(days=1), time.min, zone
    )


def _shown(first: date, last: date) -> dict[str, str]:
    return {"start": first.strftime("%d/%m/%Y"), "end": last.strftime("%d/%m/%Y")}


@dataclass(frozen=True, slots=True)
class Export:
    """An .xlsx of tips, named for its scope and period, its days and how many tips it holds."""

    name: str
    content: bytes
    start: date
    end: date
    tips: int

    def done(self, lang: str) -> str:
        """What the officer is told with the file."""
        return text(lang, "export.done", count=self.tips, **_shown(self.start, self.end))


async def export_tips(turn: Turn) -> list[Reply]:
    """Send the officer an .xlsx of the tips in their scope filed in the period."""
    words = turn.msg.args.split()
    usage = turn.t("export.usage", days=DEFAULT_DAYS)
    if len(words) > 2:
        return [Reply(usage)]
    try:
        start, end = export_period(turn.ctx, *words)
    except PeriodRefused as refused:
        return [Reply(f"{turn.t(refused.said, **refused.values)}\n{usage}")]
    export = await export_between(acting_of(turn), start, end, turn.lang)
    return [Reply(export.done(turn.lang), document=Document(export.name, export.content))]


async def export_between(acting: Acting, start: date, end: date, lang: str) -> Export:
    """The tips in the officer's scope filed from `start` to `end` (local days, both included)
    with their history and threads, as an .xlsx in `lang`; the export is audited."""
    scope = scope_of(acting.ctx, acting.officer)
    since, until = local_span(acting.ctx, start, end)
    window = {"start": since, "end": until}
    tips = await list_tips_between(acting.db, scope, **window)
    thread = await list_threads_between(acting.db, scope, **window)
    officers = {officer.id: officer.name for officer in await list_officers(acting.db)}
    # A tip may repeat one kept for the top unit: its code is left out, as the tip itself is.
    originals = {tip.duplicate_of_id for tip in tips if tip.duplicate_of_id is not None}
    codes = await list_tip_codes(acting.db, originals, scope)
    writing = Writing(acting.ctx, lang, officers, codes)
    content = write_workbook(
        [
            tips_sheet(writing, tips),
            history_sheet(writing, tips),
            thread_sheet(writing, tips, thread),
            about_sheet(writing, acting, (start, end), len(tips)),
        ]
    )
    await add_audit(
        acting.db,
        officer_id=acting.officer.id,
        action="export",
        now=acting.ctx.now,
        detail=f"{start.isoformat()}..{end.isoformat()} {len(tips)} tips",
    )
    unit = acting.officer.area or acting.ctx.catalog.root.code
    name = f"tipline-{unit}-{start.isoformat()}-{end.isoformat()}.xlsx"
    return Export(name, content, start, end, len(tips))


@dataclass(frozen=True, slots=True)
class Writing:
    """What every row is written with: the deployment, the reader's language, and the names
    that rows hold by id (officers by name, earlier tips by code)."""

    ctx: Context
    lang: str
    officers: dict[int, str]
    tip_codes: dict[int, str]

    def t(self, key: str, **values: Any) -> str:
        """A catalogue text in the reader's language."""
        return text(self.lang, key, **values)

    def moment(self, moment: datetime | None) -> datetime | None:
        """A moment as a local clock showed it: Excel knows no time zones, so the cell holds the
        deployment's local time, naive, to the second."""
        if moment is None:
            return None
        return moment.astimezone(self.ctx.timezone).replace(tzinfo=None, microsecond=0)

    def yes_no(self, flag: bool) -> str:
        """Yes or No, as the reader says it."""
        return self.t(N_("yes") if flag else N_("no"))

    def officer(self, officer_id: int | None) -> str:
        """An officer's name, or nothing where no officer acted."""
        return self.officers.get(officer_id, "") if officer_id is not None else ""

    def columns(self, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        """Columns headed in the reader's language."""
        # Every header is given the top unit's police: the top-only column's header names them.
        police = self.ctx.catalog.top_police(self.lang)
        return tuple(
            replace(column, header=self.t(column.header, police=police)) for column in columns
        )


def tips_sheet(writing: Writing, tips: list[Tip]) -> Sheet:
    """One tip a row: what was reported, where and when, and where it stands."""
    rows = [_tip_row(writing, tip) for tip in tips]
    return Sheet(writing.t("export.sheet.tips"), writing.columns(TIP_COLUMNS), rows)


def _tip_row(writing: Writing, tip: Tip) -> list[object]:
    catalog, lang = writing.ctx.catalog, writing.lang
    original = writing.tip_codes.get(tip.duplicate_of_id) if tip.duplicate_of_id else None
    return [
        show_code(tip.code),
        writing.moment(tip.created_at),
        catalog.category_name(tip.category, lang),
        catalog.area_name(tip.area, lang),
        tip.place or "",
        tip.latitude,
        tip.longitude,
        writing.t(when_label(tip.occurred)),
        writing.yes_no(tip.urgent),
        writing.yes_no(tip.top_only),
        writing.t(STATUS_NAMES[tip.status]),
        writing.moment(tip.status_at),
        show_code(original) if original else "",
        writing.officer(tip.assigned_officer_id),
        writing.officer(tip.acknowledged_by_id),
        writing.moment(tip.acknowledged_at),
        len(tip.attachments),
        tip.description,
    ]


def history_sheet(writing: Writing, tips: list[Tip]) -> Sheet:
    """Every change to every tip, with the officer who made it and their notes."""
    rows = [_event_row(writing, tip, event) for tip in tips for event in tip.events]
    return Sheet(writing.t("export.sheet.history"), writing.columns(HISTORY_COLUMNS), rows)


def _event_row(writing: Writing, tip: Tip, event: TipEvent) -> list[object]:
    return [
        show_code(tip.code),
        writing.moment(event.created_at),
        writing.officer(event.officer_id),
        writing.t(STATUS_NAMES[event.status]) if event.status else "",
        writing.officer(event.assigned_officer_id),
        event.note or "",
        event.public_note or "",
    ]


def thread_sheet(writing: Writing, tips: list[Tip], thread: list[ThreadMessage]) -> Sheet:
    """What passed between the police and each tipster: questions, answers and public notes,
    tip by tip, oldest first; the tipster is only ever "the tipster"."""
    by_tip: defaultdict[int, list[ThreadMessage]] = defaultdict(list)
    for message in thread:
        by_tip[message.tip_id].append(message)
    rows = []
    for tip in tips:
        notes = [event for event in tip.events if event.public_note]
        said: list[ThreadMessage | TipEvent] = [*by_tip[tip.id], *notes]
        said.sort(key=lambda item: item.created_at)
        rows += [_said_row(writing, tip, item) for item in said]
    return Sheet(writing.t("export.sheet.thread"), writing.columns(THREAD_COLUMNS), rows)


def _said_row(writing: Writing, tip: Tip, said: ThreadMessage | TipEvent) -> list[object]:
    if isinstance(said, TipEvent):
        who = _officer_who(writing, said.officer_id)
        kind, words = writing.t("export.kind.public_note"), said.public_note
    elif said.role is ThreadRole.QUESTION:
        who = _officer_who(writing, said.officer_id)
        kind, words = writing.t("export.kind.question"), said.text
    else:
        who = writing.t("export.who.tipster")
        kind, words = writing.t("export.kind.answer"), said.text
    return [show_code(tip.code), writing.moment(said.created_at), who, kind, words]


def _officer_who(writing: Writing, officer_id: int | None) -> str:
    # A public note set from the command line (`tipline tip set-status --note`) has no officer.
    name = writing.officer(officer_id)
    return writing.t("export.who.officer", name=name) if name else writing.t("export.who.operator")


def about_sheet(writing: Writing, acting: Acting, period: tuple[date, date], count: int) -> Sheet:
    """What the file covers, who made it and when, for whoever it is handed to."""
    facts = (
        (N_("export.about.scope"), scope_name(writing.ctx, writing.lang, acting.officer.area)),
        (N_("export.about.from"), period[0]),
        (N_("export.about.to"), period[1]),
        (N_("export.about.tips"), count),
        (N_("export.about.made"), writing.moment(writing.ctx.now)),
        (N_("export.about.by"), acting.officer.name),
        (N_("export.about.timezone"), writing.ctx.timezone.key),
        (N_("export.about.anonymous"), writing.t("export.about.anonymous.value")),
    )
    rows = [(writing.t(key), value) for key, value in facts]
    return Sheet(writing.t("export.sheet.about"), writing.columns(ABOUT_COLUMNS), rows)
