"""What the desk's overview reads: a period's tips in one scope by unit and status, how soon
officers answered and closed them, where they were pinned, and the overdue ones.

Units are passed in as a map from area code to the unit shown (the officer's units just
below theirs): the database rolls areas up, so only a row per unit comes back, never a row
per tip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Subquery,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.digests import local_day
from storage.models import Tip, TipStatus
from storage.tips import OPEN_STATUSES, Scope, _in_scope

CLOSED_STATUSES = (TipStatus.CLOSED_UNFOUNDED, TipStatus.CLOSED_DUPLICATE, TipStatus.CLOSED_SPAM)
ALL_UNITS = ""  # the unit name of the rows that count the whole scope
MEASURES = ("action", "closing")  # what response_spreads times
UNPINNED, OUTSIDE = -1, -2  # the map rows of tips that cannot be drawn


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many tips of an area filed in the period stand at a status now."""

    area: str
    status: TipStatus
    count: int


@dataclass(frozen=True, slots=True)
class DayCount:
    """How many tips of one category in a scope were filed on one local day (YYYY-MM-DD)."""

    day: str
    category: str
    count: int


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations in seconds: how many, and chosen percentiles of them (None when none)."""

    count: int
    percentiles: dict[Fraction, float]


@dataclass(frozen=True, slots=True)
class Cluster:
    """Pins that fell in one cell of the map's grid: how many, and where they are on average."""

    row: int
    column: int
    count: int
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Pins:
    """A period's pins, clustered, and the tips that cannot be drawn."""

    clusters: list[Cluster]
    unpinned: int
    outside: int


def _unit(units: dict[str, str]) -> Any:
    # An area the map no longer has stays itself, as Catalog.child_toward says.
    return case(units, value=Tip.area, else_=Tip.area) if units else Tip.area


def _filed(scope: Scope, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(_in_scope(scope), Tip.created_at >= start, Tip.created_at < end)


async def count_statuses(
    db: AsyncSession, scope: Scope, *, start: datetime, end: datetime
) -> list[StatusCount]:
    """Tips in scope filed in [start, end), by area and the status they stand at now (rolled
    up into units by the caller: a few dozen rows, where a CASE per tip cost a tenth of a
    second on a district's month)."""
    statement = (
        select(Tip.area, Tip.status, func.count())
        .where(_filed(scope, start, end))
        .group_by(Tip.area, Tip.status)
    )
    rows = await db.execute(statement)
    return [StatusCount(area, status, n) for area, status, n in rows]


async def count_by_day(
    db: AsyncSession, scope: Scope, *, start: datetime, end: datetime, zone: ZoneInfo
) -> list[DayCount]:
    """Tips in scope filed in [start, end) by local day and category, as the digest's picture
    counts them (count_tips_by_day), the scope applied here: a few hundred rows for a month,
    not one per day, area and category (12,000, a sixth of a second on a district's month)."""
    day = local_day(db, zone, end)
    statement = (
        select(day, Tip.category, func.count())
        .where(_filed(scope, start, end))
        .group_by(day, Tip.category)
    )
    return [DayCount(str(when), category, n) for when, category, n in await db.execute(statement)]


def _seconds(db: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    # SQLite stores times as text; julianday reads them to the millisecond.
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def response_spreads(
    db: AsyncSession,
    scope: Scope,
    units: dict[str, str],
    *,
    start: datetime,
    end: datetime,
    fractions: tuple[Fraction, ...],
) -> dict[tuple[str, str], Spread]:
    """How long the tips in scope filed in [start, end) waited for their first officer action
    (an officer's history row, or taking it on: the tip keeps that moment) and for their
    closing (the closed status they stand at), per unit and for all units together
    (ALL_UNITS), keyed (unit, "action" or "closing").

    Percentiles interpolate linearly between the two nearest ranks (PostgreSQL's
    percentile_cont, numpy's default): of n sorted values x[0..n-1], the fraction p lies at
    h = (n - 1)p, and is x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋ + 1] - x[⌊h⌋]). PostgreSQL works them out
    itself, so a month of a province's tips never leaves it; SQLite, inside this process,
    hands each unit's durations over as text (15 significant digits, finer than its clock
    arithmetic) and Python sorts them.
    """
    unit = _unit(units).label("unit")
    closed = case((Tip.status.in_(CLOSED_STATUSES), Tip.status_at))
    action = _seconds(db, Tip.first_action_at, Tip.created_at).label("action")
    closing = _seconds(db, closed, Tip.created_at).label("closing")
    filed = _filed(scope, start, end)
    if db.get_bind().dialect.name == "postgresql":
        # One pass over the index for each measure: a CTE read twice is stored first.
        durations = union_all(
            *(
                select(unit, literal(measure).label("measure"), value.label("value")).where(
                    filed, value.is_not(None)
                )
                for measure, value in zip(MEASURES, (action, closing), strict=True)
            )
        ).subquery()
        return await _percentiles_of_postgresql(db, durations, fractions)
    # SQLite ranks slowly: its window functions took 0.6 s over a district's month (each tip
    # under its unit and under all units, 200,000 rows). Each unit's durations come as one
    # text instead, and Python reads and sorts them in a fifth of that.
    statement = select(unit, func.group_concat(action), func.group_concat(closing))
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for name, *texts in await db.execute(statement.where(filed).group_by(unit)):
        for measure, joined in zip(MEASURES, texts, strict=True):
            if joined:
                found = [float(value) for value in joined.split(",")]
                values[name, measure] = found
                values[ALL_UNITS, measure] += found
    spreads = {}
    for key, found in values.items():
        found.sort()
        spreads[key] = Spread(len(found), {p: _interpolated(found, p) for p in fractions})
    return spreads


async def _percentiles_of_postgresql(
    db: AsyncSession, durations: Subquery, fractions: tuple[Fraction, ...]
) -> dict[tuple[str, str], Spread]:
    """The same numbers from PostgreSQL's percentile_cont, per unit and for all units in one
    pass (grouping sets): a sort of each group, where ranking every duration with window
    functions took 0.8 s on a district's month."""
    unit, measure, value = durations.c.unit, durations.c.measure, durations.c.value
    statement = select(
        func.grouping(unit),  # 1 in the rows of all units together
        unit,
        measure,
        func.count(),
        *(func.percentile_cont(float(p)).within_group(value) for p in fractions),
    ).group_by(func.grouping_sets(tuple_(unit, measure), tuple_(measure)))
    return {
        (ALL_UNITS if whole else str(name), str(kind)): Spread(
            int(n), {p: float(v) for p, v in zip(fractions, values, strict=True)}
        )
        for whole, name, kind, n, *values in await db.execute(statement)
    }


def _interpolated(values: list[float], fraction: Fraction) -> float:
    """The percentile of sorted values, between the values at ⌊h⌋ and ⌊h⌋ + 1."""
    h = (len(values) - 1) * fraction
    low = h.numerator // h.denominator
    at = values[low]
    return at + float(h - low) * (values[min(low + 1, len(values) - 1)] - at)


async def cluster_pins(
    db: AsyncSession,
    scope: Scope,
    *,
    start: datetime,
    end: datetime,
    box: tuple[float, float, float, float],
    cell: float,
) -> Pins:
    """The pins of the tips in scope filed in [start, end) inside `box` (south, west, north,
    east), grouped in square cells of `cell` degrees from its north-west corner; and how many
    tips have no pin, or one outside the box. One pass over the period's tips: the tips that
    cannot be drawn fall in cells of their own."""
    south, west, north, east = box
    inside = and_(Tip.latitude.between(south, north), Tip.longitude.between(west, east))
    row = case(
        (Tip.latitude.is_(None), UNPINNED),
        (~inside, OUTSIDE),
        else_=_floor(db, (north - Tip.latitude) / cell),
    ).label("row")
    column = case((inside, _floor(db, (Tip.longitude - west) / cell)), else_=0).label("column")
    statement = (
        select(row, column, func.count(), func.avg(Tip.latitude), func.avg(Tip.longitude))
        .where(_filed(scope, start, end))
        .group_by(row, column)
        .order_by(row, column)
    )
    clusters, apart = [], {UNPINNED: 0, OUTSIDE: 0}
    for r, c, n, lat, lon in await db.execute(statement):
        if int(r) < 0:
            apart[int(r)] += int(n)
        else:
            clusters.append(Cluster(int(r), int(c), int(n), float(lat), float(lon)))
    return Pins(clusters, apart[UNPINNED], apart[OUTSIDE])


def _floor(db: AsyncSession, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return func.floor(value)
    # SQLite has no floor(); a cast cuts toward zero, which is the floor of offsets inside a box.
    return cast(value, Integer)


async def list_overdue(
    db: AsyncSession, scope: Scope, *, overdue_before: datetime, limit: int
) -> tuple[list[Tip], int]:
    """The open tips in scope with no status change since `overdue_before`, the longest
    waiting first (at most `limit`), and how many there are."""
    where = and_(_in_scope(scope), Tip.status.in_(OPEN_STATUSES), Tip.status_at < overdue_before)
    total = int(await db.scalar(select(func.count()).select_from(Tip).where(where)) or 0)
    statement = select(Tip).where(where).order_by(Tip.status_at, Tip.id).limit(limit)
    return list(await db.scalars(statement)), total
