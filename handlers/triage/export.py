"""/export: the officer's tips as an Excel file, with their history, and nothing on the tipster."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from handlers.common.codes import show_code
from handlers.common.scopes import scope_of
from handlers.common.types import Context, Document, Reply
from handlers.conversation.turn import Turn
from handlers.triage.actions import Acting, acting_of
from storage.audit import add_audit
from storage.models import Tip
from storage.officers import list_officers
from storage.tips import list_tip_codes, list_tips_between

DEFAULT_DAYS = 30
TIP_COLUMNS = (
    "code",
    "filed_at",
    "category",
    "area",
    "place",
    "latitude",
    "longitude",
    "occurred",
    "urgent",
    "top_only",
    "status",
    "status_at",
    "duplicate_of",
    "assigned_to",
    "acknowledged_at",
    "attachments",
    "description",
)
HISTORY_COLUMNS = ("code", "at", "officer", "status", "assigned_to", "note", "public_note")
# A cell starting with these is a formula to Excel: tipster text must never run as one.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def parse_day(typed: str) -> date | None:
    """A date as 2026-11-30 or 30/11/2026, or None."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(typed, pattern).date()
        except ValueError:
            continue
    return None


def _period(turn: Turn) -> tuple[date, date] | None:
    words = turn.msg.args.split()
    today = turn.ctx.now.astimezone(turn.ctx.timezone).date()
    if not words:
        return today - timedelta(days=DEFAULT_DAYS - 1), today
    days = [parse_day(word) for word in words[:2]]
    if len(words) > 2 or any(day is None for day in days):
        return None
    start = days[0]
    end = days[1] if len(days) == 2 else today
    if start is None or end is None or end < start:
        return None
    return start, end


@dataclass(frozen=True, slots=True)
class Export:
    """An .xlsx of tips, named for its period, and how many tips it holds."""

    name: str
    content: bytes
    tips: int


async def export_tips(turn: Turn) -> list[Reply]:
    """Send the officer an .xlsx of the tips in their scope filed in the period."""
    period = _period(turn)
    if period is None:
        return [turn.say("export.usage", days=DEFAULT_DAYS)]
    start, end = period
    export = await export_between(acting_of(turn), start, end, turn.lang)
    shown = {"start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")}
    document = Document(export.name, export.content)
    return [Reply(turn.t("export.done", count=export.tips, **shown), document=document)]


async def export_between(acting: Acting, start: date, end: date, lang: str) -> Export:
    """The tips in the officer's scope filed from `start` to `end` (local days, both included)
    with their history, as an .xlsx in `lang`; the export is audited."""
    zone = acting.ctx.timezone
    tips = await list_tips_between(
        acting.db,
        scope_of(acting.ctx, acting.officer),
        start=datetime.combine(start, time.min, zone),
        end=datetime.combine(end + timedelta(days=1), time.min, zone),
    )
    officers = {officer.id: officer.name for officer in await list_officers(acting.db)}
    originals = {tip.duplicate_of_id for tip in tips if tip.duplicate_of_id is not None}
    codes = await list_tip_codes(acting.db, originals)
    content = workbook(acting.ctx, lang, tips, Names(officers, codes))
    await add_audit(
        acting.db,
        officer_id=acting.officer.id,
        action="export",
        now=acting.ctx.now,
        detail=f"{start.isoformat()}..{end.isoformat()} {len(tips)} tips",
    )
    return Export(f"tipline-{start.isoformat()}-{end.isoformat()}.xlsx", content, len(tips))


@dataclass(frozen=True, slots=True)
class Names:
    """What the rows name by id: officers by name, earlier tips by code."""

    officers: dict[int, str]
    tip_codes: dict[int, str]


def _safe(value: object) -> object:
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def _local(ctx: Context, moment: datetime | None) -> str:
    return moment.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M") if moment else ""


def workbook(ctx: Context, lang: str, tips: list[Tip], names: Names) -> bytes:
    """Two sheets, tips and history; every value a tipster typed is kept as inert text."""
    # Imported here: openpyxl adds about 5 MB to every bot process, and exports are rare.
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "tips"
    history = book.create_sheet("history")
    for target, columns in ((sheet, TIP_COLUMNS), (history, HISTORY_COLUMNS)):
        target.append(list(columns))
        for cell in target[1]:
            cell.font = Font(bold=True)
    for tip in tips:
        sheet.append([_safe(value) for value in _tip_row(ctx, lang, tip, names)])
        for event in tip.events:
            history.append(
                [
                    _safe(value)
                    for value in (
                        show_code(tip.code),
                        _local(ctx, event.created_at),
                        names.officers.get(event.officer_id or 0, ""),
                        event.status.value if event.status else "",
                        names.officers.get(event.assigned_officer_id or 0, ""),
                        event.note or "",
                        event.public_note or "",
                    )
                ]
            )
    for row in sheet.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _tip_row(ctx: Context, lang: str, tip: Tip, names: Names) -> list[object]:
    category, area = ctx.catalog.category(tip.category), ctx.catalog.area(tip.area)
    return [
        show_code(tip.code),
        _local(ctx, tip.created_at),
        category.name(lang) if category else tip.category,
        area.name(lang) if area else tip.area,
        tip.place or "",
        tip.latitude,
        tip.longitude,
        tip.occurred,
        tip.urgent,
        tip.top_only,
        tip.status.value,
        _local(ctx, tip.status_at),
        show_code(names.tip_codes[tip.duplicate_of_id]) if tip.duplicate_of_id else "",
        names.officers.get(tip.assigned_officer_id or 0, ""),
        _local(ctx, tip.acknowledged_at),
        len(tip.attachments),
        tip.description,
    ]
