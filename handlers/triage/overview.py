"""The desk's overview, as plain data: what a commune or district chief reads once a week.

Everything is the officer's scope alone (a tip kept for the top unit only for the top unit's
officers), over the last 7, 30 or 90 local days: the tips by unit and status, per day by
category, how soon officers answered and closed them, the overdue ones, the week's patrols,
and where the tips were pinned. Opening it is an audit row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.catalog import BoundingBox, Catalog, Unit
from handlers.common.charts import category_chart, per_day
from handlers.common.codes import show_code
from handlers.common.coverage import coverage, read_patrol_records
from handlers.common.notices import STATUS_NAMES
from handlers.common.schedule import local_days
from handlers.common.scopes import scope_name, scope_of
from handlers.common.texts import text, text_n
from handlers.common.types import Chart, Context
from handlers.triage.queue import age, overdue_before
from storage.audit import add_audit
from storage.models import Officer, TipStatus
from storage.overview import (
    ALL_UNITS,
    Pins,
    Spread,
    cluster_pins,
    count_by_day,
    count_statuses,
    list_overdue,
    response_spreads,
)
from storage.patrols import list_groups

PERIODS = (7, 30, 90)
OVERDUE_SHOWN = 20
PATROL_DAYS = 7
MAP_CELLS = 16  # grid cells across the map: clusters stay apart on a phone's width
MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)
STATUSES = tuple(TipStatus)


@dataclass(frozen=True, slots=True)
class UnitCounts:
    """One unit's tips of the period by the status they stand at now (STATUSES' order)."""

    name: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """All the unit's tips of the period."""
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Timing:
    """How long tips waited for something: over how many tips, the median and the 90th
    percentile in seconds (None over no tips) and as a person reads them."""

    count: int
    median: float | None
    p90: float | None
    median_said: str
    p90_said: str


@dataclass(frozen=True, slots=True)
class Response:
    """A unit's time from filing to the first officer action, and to closing."""

    name: str
    action: Timing
    closing: Timing


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """An open tip nobody moved for too long."""

    tip_id: int
    code: str
    urgent: bool
    status: str
    category: str
    area: str
    waiting: str  # since its last status change


@dataclass(frozen=True, slots=True)
class PatrolRow:
    """A patrol group's shifts of the week."""

    name: str
    planned: int
    done: int
    missed: int
    late: int


@dataclass(frozen=True, slots=True)
class Overview:
    """The whole overview of one officer's scope for one period."""

    days: int
    scope: str
    start: str
    end: str
    statuses: tuple[str, ...]
    units: tuple[UnitCounts, ...]
    totals: UnitCounts
    chart: Chart
    responses: tuple[Response, ...]  # the units', then all of them together
    overdue: tuple[OverdueLine, ...]
    overdue_total: int
    overdue_hours: int
    patrols: tuple[PatrolRow, ...]
    patrol_totals: PatrolRow
    box: BoundingBox | None  # the map's extent; None when the map file gives none
    pins: Pins | None


def units_below(catalog: Catalog, area: str | None) -> list[Unit]:
    """The units an officer's overview is split into: those just below theirs (or theirs
    alone, for a commune)."""
    top = catalog.unit(area)
    if top is None:
        return []
    return [u for code in top.children if (u := catalog.unit(code))] or [top]


def rolled_up(catalog: Catalog, area: str | None) -> dict[str, str]:
    """Every area code inside the officer's unit, and the unit just below theirs holding it,
    rolled up the map as the morning digest does (Catalog.child_toward)."""
    inside = catalog.under(area)
    codes = {code for unit in catalog.units for code in catalog.codes(unit)}
    return {
        code: catalog.child_toward(area, code)
        for code in sorted(codes)
        if inside is None or code in inside
    }


async def overview_page(db: AsyncSession, ctx: Context, officer: Officer, days: int) -> Overview:
    """The overview of the officer's scope for the last `days` local days; an audit row."""
    catalog, lang, scope = ctx.catalog, officer.language, scope_of(ctx, officer)
    start, end = local_days(ctx.now, ctx.timezone, days)
    units = units_below(catalog, officer.area)
    rollup = rolled_up(catalog, officer.area)
    statuses = await count_statuses(db, scope, start=start, end=end)
    counted: dict[str, Counter[TipStatus]] = {}
    for row in statuses:
        unit = rollup.get(row.area, row.area)
        counted.setdefault(unit, Counter())[row.status] += row.count
    # A unit the map no longer has keeps its tips in the table, under its code.
    codes = [u.code for u in units] + sorted(set(counted) - {u.code for u in units})
    rows = tuple(
        UnitCounts(catalog.area_name(code, lang), _by_status(counted.get(code, Counter())))
        for code in codes
    )
    totals = UnitCounts(
        text(lang, "desk.overview.all"), _by_status(sum(counted.values(), Counter()))
    )
    spreads = await response_spreads(
        db, scope, rollup, start=start, end=end, fractions=(MEDIAN, P90)
    )
    responses = tuple(
        Response(
            name,
            _timing(lang, spreads.get((code, "action"))),
            _timing(lang, spreads.get((code, "closing"))),
        )
        for code, name in [(c, r.name) for c, r in zip(codes, rows, strict=True)]
        + [(ALL_UNITS, totals.name)]
    )
    late = overdue_before(ctx)
    overdue, overdue_total = await list_overdue(db, scope, overdue_before=late, limit=OVERDUE_SHOWN)
    box = catalog.box_of(officer.area)
    await add_audit(
        db, officer_id=officer.id, action="desk_overview", now=ctx.now, detail=f"days={days}"
    )
    patrols = await _patrols(db, ctx, officer)
    return Overview(
        days=days,
        scope=scope_name(ctx, lang, officer.area),
        start=f"{start.astimezone(ctx.timezone):%d/%m/%Y}",
        end=f"{ctx.now.astimezone(ctx.timezone):%d/%m/%Y %H:%M}",
        statuses=tuple(text(lang, STATUS_NAMES[s]) for s in STATUSES),
        units=rows,
        totals=totals,
        chart=await _chart(db, ctx, officer, start, end),
        responses=responses,
        overdue=tuple(
            OverdueLine(
                tip_id=tip.id,
                code=show_code(tip.code),
                urgent=tip.urgent,
                status=text(lang, STATUS_NAMES[tip.status]),
                category=catalog.category_name(tip.category, lang),
                area=catalog.area_name(tip.area, lang),
                waiting=age(lang, ctx.now - tip.status_at),
            )
            for tip in overdue
        ),
        overdue_total=overdue_total,
        overdue_hours=ctx.limits.overdue_hours,
        patrols=patrols,
        patrol_totals=PatrolRow(
            text_n(lang, "digest.patrols.all", len(patrols)),
            *(sum(getattr(p, f) for p in patrols) for f in ("planned", "done", "missed", "late")),
        ),
        box=box,
        pins=await cluster_pins(
            db,
            scope,
            start=start,
            end=end,
            box=(box.south, box.west, box.north, box.east),
            cell=(box.east - box.west) / MAP_CELLS,
        )
        if box is not None
        else None,
    )


def _by_status(counts: Counter[TipStatus]) -> tuple[int, ...]:
    return tuple(counts[status] for status in STATUSES)


def _timing(lang: str, spread: Spread | None) -> Timing:
    if spread is None:
        return Timing(0, None, None, "–", "–")
    median, p90 = spread.percentiles[MEDIAN], spread.percentiles[P90]
    return Timing(spread.count, median, p90, span(lang, median), span(lang, p90))


def span(lang: str, seconds: float) -> str:
    """A duration to the minute under a day ("2 giờ 5 phút"), to the hour above ("3 ngày 4 giờ")."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return text(lang, "desk.overview.span.minutes", minutes=minutes)
    if minutes < 24 * 60:
        return text(lang, "desk.overview.span.hours", hours=minutes // 60, minutes=minutes % 60)
    hours = round(seconds / 3600)
    return text(lang, "desk.overview.span.days", days=hours // 24, hours=hours % 24)


async def _chart(
    db: AsyncSession, ctx: Context, officer: Officer, start: datetime, end: datetime
) -> Chart:
    """Tips per local day of the period, stacked by category, as the digest's picture counts
    them."""
    counts = await count_by_day(db, scope_of(ctx, officer), start=start, end=end, zone=ctx.timezone)
    days = (end.astimezone(ctx.timezone).date() - start.astimezone(ctx.timezone).date()).days
    dates, series = per_day(counts, ctx.timezone, start, days)
    lang = officer.language
    title = text(lang, "desk.overview.chart_title", days=days)
    return category_chart(ctx.catalog, lang, dates, series, title)


async def _patrols(db: AsyncSession, ctx: Context, officer: Officer) -> tuple[PatrolRow, ...]:
    """The week's shifts of each patrol group in scope, counted as /patrols week counts them."""
    groups = await list_groups(db, areas=ctx.catalog.under(officer.area))
    since, until = local_days(ctx.now, ctx.timezone, PATROL_DAYS)
    records = await read_patrol_records(db, since, until)
    rows = []
    for group in groups:
        numbers = coverage(ctx, group, records, since, until)
        rows.append(
            PatrolRow(group.name, numbers.planned, numbers.done, numbers.missed, numbers.late)
        )
    return tuple(rows)
