"""The numbers behind a digest: read once per morning for the whole map, sliced per scope.

A morning with a thousand officers asks the database a handful of questions per distinct
period, not one per officer per number: every row read keeps its area and top-only flag,
and each officer's scope is a filter over those rows in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.charts import per_day
from handlers.common.coverage import Coverage, PatrolRecords, coverage, read_patrol_records
from handlers.common.types import Context
from storage.digests import (
    OpenCount,
    PendingThread,
    TipCount,
    TipLine,
    count_open,
    count_tips,
    count_tips_by_day,
    list_pending_thread,
    list_unreachable,
    list_urgent,
    oldest_overdue,
)
from storage.models import Officer, PatrolGroup, ThreadRole
from storage.patrols import list_groups
from storage.tips import Scope

CHART_DAYS = 14
NAMED_OVERDUE = 5


@dataclass(frozen=True, slots=True)
class Window:
    """The stretch of time a digest covers: [start, end)."""

    start: datetime
    end: datetime

    @property
    def before(self) -> Window:
        """The period of the same length just before, to compare with."""
        return Window(self.start - (self.end - self.start), self.start)


@dataclass(frozen=True, slots=True)
class ScopeNumbers:
    """Everything one scope's digest says, counted from the rows of the whole map."""

    new: int
    new_before: int
    by_category: list[tuple[str, int, int]]  # code, this period, the period before
    by_area: list[tuple[str, int, int]]
    urgent: list[TipLine]
    open_by_age: dict[int, int]
    overdue: int
    oldest_overdue: list[TipLine]
    questions_waiting: int
    answers_unread: list[str]  # tip codes
    patrols: list[tuple[PatrolGroup, Coverage]]
    open_missed: list[tuple[PatrolGroup, datetime]]
    unreachable: list[Officer]
    chart_days: list[date]
    chart: dict[str, list[int]]  # category code -> tips per day

    @property
    def open_total(self) -> int:
        """How many tips are open in all."""
        return sum(self.open_by_age.values())


@dataclass
class MorningFacts:
    """Rows of the whole map for one run of the digest job; each question is asked at most once."""

    db: AsyncSession
    ctx: Context
    _counts: dict[Window, list[TipCount]] = field(default_factory=dict)
    _daily: dict[Window, list[TipCount]] = field(default_factory=dict)
    _urgent: dict[Window, list[TipLine]] = field(default_factory=dict)
    _patrols: dict[Window, PatrolRecords] = field(default_factory=dict)
    _now: tuple[list[OpenCount], list[TipLine], list[PendingThread]] | None = None
    _groups: list[PatrolGroup] | None = None
    _unreachable: list[Officer] | None = None
    _numbers: dict[tuple[str | None, Window, bool], ScopeNumbers] = field(default_factory=dict)

    async def counts(self, window: Window) -> list[TipCount]:
        """Tips filed in the window by area, category and urgency."""
        if window not in self._counts:
            self._counts[window] = await count_tips(self.db, start=window.start, end=window.end)
        return self._counts[window]

    async def daily(self, window: Window) -> list[TipCount]:
        """Tips per local day in the window, by area and category."""
        if window not in self._daily:
            self._daily[window] = await count_tips_by_day(
                self.db, start=window.start, end=window.end, zone=self.ctx.timezone
            )
        return self._daily[window]

    async def urgent(self, window: Window) -> list[TipLine]:
        """Urgent tips filed in the window."""
        if window not in self._urgent:
            self._urgent[window] = await list_urgent(self.db, start=window.start, end=window.end)
        return self._urgent[window]

    async def patrol_records(self, window: Window) -> PatrolRecords:
        """Every group's plan, shifts and missed shifts around the window."""
        if window not in self._patrols:
            self._patrols[window] = await read_patrol_records(self.db, window.start, window.end)
        return self._patrols[window]

    async def standing(self) -> tuple[list[OpenCount], list[TipLine], list[PendingThread]]:
        """What is open right now: tips by age, the longest-waiting overdue ones, the thread."""
        if self._now is None:
            overdue_before = self.ctx.now - timedelta(hours=self.ctx.limits.overdue_hours)
            self._now = (
                await count_open(self.db, now=self.ctx.now, overdue_before=overdue_before),
                await oldest_overdue(
                    self.db, overdue_before=overdue_before, per_area=NAMED_OVERDUE
                ),
                await list_pending_thread(self.db),
            )
        return self._now

    async def groups(self) -> list[PatrolGroup]:
        """Every live patrol group."""
        if self._groups is None:
            self._groups = await list_groups(self.db, areas=None)
        return self._groups

    async def unreachable(self) -> list[Officer]:
        """Officers the platform could not deliver to."""
        if self._unreachable is None:
            self._unreachable = await list_unreachable(self.db)
        return self._unreachable

    async def numbers(self, unit: str | None, window: Window, *, admin: bool) -> ScopeNumbers:
        """The digest's numbers for one unit and period, counted once for all its officers."""
        key = (unit, window, admin)
        if key not in self._numbers:
            self._numbers[key] = await self._count(unit, window, admin=admin)
        return self._numbers[key]

    async def _count(self, unit: str | None, window: Window, *, admin: bool) -> ScopeNumbers:
        catalog = self.ctx.catalog
        scope = Scope(catalog.under(unit))
        now_counts = [c for c in await self.counts(window) if _in(scope, c)]
        before_counts = [c for c in await self.counts(window.before) if _in(scope, c)]
        open_counts, overdue_lines, pending = await self.standing()
        open_counts = [c for c in open_counts if _in(scope, c)]
        overdue_lines = [t for t in overdue_lines if _in(scope, t)]
        pending = [p for p in pending if _in(scope, p)]
        chart_window = chart_window_for(self.ctx, window.end)
        chart_days, chart = per_day(
            [c for c in await self.daily(chart_window) if _in(scope, c)],
            self.ctx.timezone,
            chart_window.start,
            CHART_DAYS,
        )
        patrols, open_missed = await self._patrol_numbers(scope, window)
        open_by_age: Counter[int] = Counter()
        for count in open_counts:
            open_by_age[count.age_days] += count.count
        return ScopeNumbers(
            new=sum(c.count for c in now_counts),
            new_before=sum(c.count for c in before_counts),
            by_category=_compare(now_counts, before_counts, lambda c: c.category),
            # A unit's digest rolls its areas up into the units just below it.
            by_area=_compare(
                now_counts, before_counts, lambda c: catalog.child_toward(unit, c.area)
            ),
            urgent=[t for t in await self.urgent(window) if _in(scope, t)],
            open_by_age=dict(open_by_age),
            overdue=sum(c.count for c in open_counts if c.overdue),
            oldest_overdue=sorted(overdue_lines, key=lambda t: t.status_at)[:NAMED_OVERDUE],
            questions_waiting=sum(1 for p in pending if p.role is ThreadRole.QUESTION),
            answers_unread=sorted({p.code for p in pending if p.role is ThreadRole.ANSWER}),
            patrols=patrols,
            open_missed=open_missed,
            unreachable=await self.unreachable() if admin else [],
            chart_days=chart_days,
            chart=chart,
        )

    async def _patrol_numbers(
        self, scope: Scope, window: Window
    ) -> tuple[list[tuple[PatrolGroup, Coverage]], list[tuple[PatrolGroup, datetime]]]:
        groups = [g for g in await self.groups() if scope.covers(g.area, top_only=False)]
        records = await self.patrol_records(window)
        numbers = [(g, coverage(self.ctx, g, records, window.start, window.end)) for g in groups]
        open_missed = sorted(
            ((g, start) for g, n in numbers for start in n.open_missed), key=lambda item: item[1]
        )
        return numbers, open_missed


def _in(scope: Scope, row: TipCount | OpenCount | TipLine | PendingThread) -> bool:
    return scope.covers(row.area, top_only=row.top_only)


def _compare(
    now: list[TipCount], before: list[TipCount], key: Callable[[TipCount], str]
) -> list[tuple[str, int, int]]:
    """Counts by key for this period and the one before, largest first."""
    this, last = Counter[str](), Counter[str]()
    for count in now:
        this[key(count)] += count.count
    for count in before:
        last[key(count)] += count.count
    keys = sorted(set(this) | set(last), key=lambda k: (-this[k], -last[k], k))
    return [(k, this[k], last[k]) for k in keys]


def chart_window_for(ctx: Context, end: datetime) -> Window:
    """The chart's days: the fourteen whole local days before the digest's day."""
    today = end.astimezone(ctx.timezone).date()
    start = datetime.combine(today - timedelta(days=CHART_DAYS), time.min, ctx.timezone)
    return Window(start, datetime.combine(today, time.min, ctx.timezone))
