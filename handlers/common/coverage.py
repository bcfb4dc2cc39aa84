"""Patrol coverage: each group's planned, done, late and missed shifts, and the hours covered."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.schedule import Planned, planned_between
from handlers.common.texts import decimal, text, text_n
from handlers.common.types import Context
from storage.models import MissedPatrol, PatrolGroup, PatrolPoint, Shift
from storage.patrols import list_all_missed, list_all_shifts, list_all_slots, list_points


@dataclass(frozen=True, slots=True)
class Coverage:
    """One group's numbers for a period."""

    planned: int
    done: int
    late: int
    missed: int
    minutes: int
    checkpoints: int
    incidents: int
    open_missed: tuple[datetime, ...]


def _covered_minutes(shifts: list[Shift], until: datetime) -> int:
    """Minutes with at least one member out: overlapping shifts count once."""
    spans = sorted((s.started_at, min(s.ended_at or until, until)) for s in shifts)
    total, reach = timedelta(), None
    for start, end in spans:
        begin = max(start, reach) if reach is not None else start
        if end > begin:
            total += end - begin
            reach = end if reach is None or end > reach else reach
    return int(total.total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class PatrolRecords:
    """Every group's plan, shifts, points and missed shifts around one period, read at once."""

    slots: dict[int, list[tuple[int, str, str]]]
    shifts: dict[int, list[Shift]]
    points: dict[int, list[PatrolPoint]]
    missed: dict[int, list[MissedPatrol]]


async def read_patrol_records(
    db: AsyncSession, since: datetime, until: datetime, *, group_id: int | None = None
) -> PatrolRecords:
    """Four queries for all groups (or the one named), so that a province's numbers do not cost
    one per group."""
    slots: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for slot in await list_all_slots(db, group_id=group_id):
        slots[slot.group_id].append((slot.weekday, slot.starts, slot.ends))
    shifts: dict[int, list[Shift]] = defaultdict(list)
    group_of: dict[int, int] = {}
    early = since - timedelta(hours=1)  # a check-in up to an hour ahead counts for the plan
    for shift in await list_all_shifts(db, since=early, until=until, group_id=group_id):
        shifts[shift.group_id].append(shift)
        group_of[shift.id] = shift.group_id
    points: dict[int, list[PatrolPoint]] = defaultdict(list)
    for point in await list_points(db, list(group_of)):
        points[group_of[point.shift_id]].append(point)
    missed: dict[int, list[MissedPatrol]] = defaultdict(list)
    for row in await list_all_missed(db, since=since, until=until, group_id=group_id):
        missed[row.group_id].append(row)
    return PatrolRecords(slots, shifts, points, missed)


def group_plan(
    ctx: Context, group: PatrolGroup, records: PatrolRecords, since: datetime, until: datetime
) -> list[Planned]:
    """The group's planned shifts starting in [since, until): from its creation on, one then
    already under way included, as a check-in then is matched to it (handlers/common/schedule)."""
    planned = planned_between(records.slots.get(group.id, []), ctx.timezone, since, until)
    return [p for p in planned if p.end > group.created_at]


def coverage(
    ctx: Context, group: PatrolGroup, records: PatrolRecords, since: datetime, until: datetime
) -> Coverage:
    """Planned / done / late / missed shifts, hours covered, checkpoints, incidents."""
    planned = [p for p in group_plan(ctx, group, records, since, until) if p.start <= ctx.now]
    shifts = records.shifts.get(group.id, [])
    first_in: dict[datetime, datetime] = {}
    for shift in shifts:
        if shift.planned_start is not None:
            earliest = first_in.get(shift.planned_start, shift.started_at)
            first_in[shift.planned_start] = min(earliest, shift.started_at)
    points = records.points.get(group.id, [])
    missed = records.missed.get(group.id, [])
    return Coverage(
        planned=len(planned),
        done=sum(1 for p in planned if p.start in first_in),
        # Two members on one planned shift count once: late only if the first came late.
        late=sum(
            1
            for p in planned
            if p.start in first_in and first_in[p.start] > p.start + ctx.limits.patrol_grace
        ),
        missed=sum(1 for m in missed if since <= m.planned_start < until),
        # A shift still out counts up to now, not to the end of the period.
        minutes=_covered_minutes([s for s in shifts if s.started_at >= since], min(until, ctx.now)),
        checkpoints=sum(1 for p in points if p.kind == "checkpoint"),
        incidents=sum(1 for p in points if p.kind == "incident"),
        open_missed=tuple(m.planned_start for m in missed if m.closed_at is None),
    )


def patrol_line(lang: str, name: str, counts: list[Coverage]) -> str:
    """One line of patrol numbers, for a group or (summed) for several."""
    hours = decimal(lang, sum(c.minutes for c in counts) / 60)
    return text(
        lang,
        "patrols.line",
        group=name,
        planned=sum(c.planned for c in counts),
        done=sum(c.done for c in counts),
        late=sum(c.late for c in counts),
        missed=sum(c.missed for c in counts),
        hours=hours,
        checkpoints=text_n(lang, "count.checkpoints", sum(c.checkpoints for c in counts)),
        incidents=text_n(lang, "count.incidents", sum(c.incidents for c in counts)),
    )
