"""How fast the officers' desk lists and searches a million tips (storage/finding.py).

    python -m bench.desk                   # 1,000,000 tips on SQLite, seeded as bench.digest does
    python -m bench.desk --database-url postgresql+asyncpg://...   # that database, emptied first
    python -m bench.desk --tips 20000 --smoke
    python -m bench.desk --db desk.db      # seeded into desk.db, kept: timed again as it is

Seeds a year of tips with Vietnamese stories (bench/stories.py) into a database at migration
0018, times the migrations from 0019 on indexing their words (0021: the open tips' own, on
PostgreSQL), then times each case of the desk: the first page, filtered pages, searches.
Prints p50 and p95 of the server time against each case's target (the desk issue's p95 under
150 ms). With --smoke, judges no time but checks every case's page and count against the same
list worked out in Python.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.digest import BEFORE_SEARCH, MORNING, TIP_COLUMNS, seed, tip_rows
from bench.throughput import emptied
from bot.settings import load_settings
from storage.db import Database
from storage.finding import COUNT_LIMIT, TipFilter, find_tips, search_terms
from storage.folding import fold
from storage.migrate import upgrade
from storage.models import Tip, TipStatus
from storage.tips import OPEN_STATUSES, Scope, standing

TARGET_MS = 150.0
REPEATS = 30
PAGE = 20
OVERDUE_BEFORE = MORNING - timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Case:
    """Something an officer waits for at the desk, and the time it may take.

    `run` is timed and says what it covered ("1,234 tips"); `check` (smoke runs) says whether
    what it gave was right. A case that is no list (an overview of the day) brings its own pair."""

    name: str
    run: Callable[[AsyncSession], Awaitable[str]]
    check: Callable[[AsyncSession], Awaitable[bool]]
    target_ms: float = TARGET_MS


def listing(name: str, scope: Scope, wanted: TipFilter, *, offset: int = 0) -> Case:
    """A page of the desk's list: find_tips, checked against the list worked out in Python."""

    async def run(db: AsyncSession) -> str:
        found = await find_tips(
            db, scope, wanted, overdue_before=OVERDUE_BEFORE, offset=offset, limit=PAGE
        )
        return f"{'over ' if found.more else ''}{found.total:,} tips"

    async def check(db: AsyncSession) -> bool:
        found = await find_tips(
            db, scope, wanted, overdue_before=OVERDUE_BEFORE, offset=offset, limit=PAGE
        )
        expected = await worked_out(db, scope, wanted)
        page = [tip.id for tip in found.tips]
        counted = (min(len(expected), COUNT_LIMIT), len(expected) > COUNT_LIMIT)
        return page == expected[offset : offset + PAGE] and (found.total, found.more) == counted

    return Case(name, run, check)


async def worked_out(db: AsyncSession, scope: Scope, wanted: TipFilter) -> list[int]:
    """Every tip the desk should list, in its order, by plain Python over all the tips."""
    terms = search_terms(wanted.words)
    kept = []
    for tip in await db.scalars(select(Tip)):
        said = f"{tip.description} {tip.place or ''} {tip.code} {tip.code[:4]} {tip.code[4:]}"
        words = re.findall(r"[^\W_]+", fold(said))
        if (
            scope.admits(tip)
            and (wanted.areas is None or tip.area in wanted.areas)
            and (not wanted.statuses or tip.status in wanted.statuses)
            and (not wanted.categories or tip.category in wanted.categories)
            and (wanted.since is None or tip.created_at >= wanted.since)
            and (wanted.until is None or tip.created_at < wanted.until)
            and all(any(word.startswith(term) for word in words) for term in terms)
        ):
            kept.append(tip)
    waiting = sorted(
        (tip for tip in kept if tip.status in OPEN_STATUSES),
        key=lambda tip: (standing(tip, overdue_before=OVERDUE_BEFORE), tip.created_at, tip.id),
    )
    done = sorted(
        (tip for tip in kept if tip.status not in OPEN_STATUSES),
        key=lambda tip: (tip.created_at, tip.id),
        reverse=True,
    )
    return [tip.id for tip in waiting + done]


COMMUNE = frozenset({"an-thuy"})
CASES = (
    listing("whole map, first page", Scope(), TipFilter()),
    listing("whole map, page 50", Scope(), TipFilter(), offset=49 * PAGE),
    listing(
        "open theft, one commune, 30 days",
        Scope(),
        TipFilter(
            statuses=frozenset(OPEN_STATUSES),
            categories=frozenset({"theft"}),
            areas=COMMUNE,
            since=MORNING - timedelta(days=30),
            until=MORNING,
        ),
    ),
    listing(
        "handled theft or drugs, one commune, a quarter",
        Scope(),
        TipFilter(
            statuses=frozenset({TipStatus.HANDLED}),
            categories=frozenset({"theft", "drugs"}),
            areas=COMMUNE,
            since=MORNING - timedelta(days=180),
            until=MORNING - timedelta(days=90),
        ),
    ),
    listing("search 'trom xe', whole map", Scope(), TipFilter(words="trom xe")),
    listing("search 'cho dong', whole map", Scope(), TipFilter(words="cho dong")),
    listing("search 'trom xe', one commune", Scope(COMMUNE), TipFilter(words="trom xe")),
)


async def timings(url: str, cases: tuple[Case, ...]) -> list[tuple[Case, float, float, str]]:
    """Each case's p50 and p95 in milliseconds, and what it covered."""
    database = Database(url)
    results = []
    try:
        for case in cases:
            spent: list[float] = []
            covered = ""
            for _ in range(REPEATS):
                async with database.reading() as db:
                    started = time.perf_counter()
                    covered = await case.run(db)
                    spent.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(spent, n=20)[-1]
            results.append((case, statistics.median(spent), p95, covered))
    finally:
        await database.dispose()
    return results


async def checked(url: str, cases: tuple[Case, ...]) -> list[str]:
    """The names of the cases whose answer was wrong."""
    database = Database(url)
    try:
        wrong = []
        for case in cases:
            async with database.reading() as db:
                if not await case.check(db):
                    wrong.append(case.name)
        return wrong
    finally:
        await database.dispose()


async def migrated(url: str) -> float:
    """Seconds the migrations from 0019 on take to index the words of every tip stored."""
    database = Database(url)
    try:
        started = time.perf_counter()
        await upgrade(database)
        took = time.perf_counter() - started
    finally:
        await database.dispose()
    if url.startswith("postgresql"):
        # The new indexes' statistics and visibility, as autovacuum would soon leave them.
        connection = await asyncpg.connect(url.replace("+asyncpg", "", 1))
        try:
            await connection.execute("VACUUM ANALYZE tip")
        finally:
            await connection.close()
    return took


async def seed_postgres(url: str, tips: int) -> None:
    """Empty the database, migrate it to 0018 and copy a year of tips in."""
    await emptied(url)
    database = Database(url)
    try:
        await upgrade(database, BEFORE_SEARCH)
    finally:
        await database.dispose()
    catalog = load_settings(_env_file=None).catalog()
    areas = [area.code for area in catalog.areas]
    categories = [category.code for category in catalog.categories]
    rows = tip_rows(random.Random(2026), tips, areas, categories, when=_same)
    connection = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    try:
        columns = [name.strip() for name in TIP_COLUMNS.split(",")]
        await connection.copy_records_to_table("tip", records=rows, columns=columns)
        # As autovacuum leaves a live database: index-only scans need the visibility map.
        await connection.execute("VACUUM ANALYZE tip")
    finally:
        await connection.close()


def _same(moment: datetime) -> datetime:
    return moment


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (postgresql+asyncpg://...), emptied first"
    )
    parser.add_argument("--smoke", action="store_true", help="check the answers, judge no time")
    parser.add_argument(
        "--db", type=Path, help="SQLite file: seeded and kept if new, timed as it is if not"
    )
    parser.add_argument(
        "--seeded", action="store_true", help="time the PostgreSQL database an earlier run left"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url
        path = args.db or Path(folder) / "bench.db"
        reused = args.seeded if url else path.exists()
        if not reused:
            started = time.perf_counter()
            if url:
                asyncio.run(seed_postgres(url, args.tips))
            else:
                seed(path, args.tips, groups=10, officers=10, revision=BEFORE_SEARCH)
            print(f"seeded {args.tips:,} tips in {time.perf_counter() - started:.0f} s")
        url = url or f"sqlite+aiosqlite:///{path}"
        if not reused:
            print(f"migrations 0019-0021 indexed their words in {asyncio.run(migrated(url)):.1f} s")
        results = asyncio.run(timings(url, CASES))
        wrong = asyncio.run(checked(url, CASES)) if args.smoke else []
    for case, p50, p95, covered in results:
        print(
            f"  {case.name:<48} {covered:>17}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
            f"  (target < {case.target_ms:.0f} ms)"
        )
    for name in wrong:
        print(f"  WRONG: {name}")
    if args.smoke:
        print("SMOKE " + ("FAIL" if wrong else "PASS"))
        sys.exit(1 if wrong else 0)
    slow = [case.name for case, _, p95, _ in results if p95 >= case.target_ms]
    print(("FAIL: " + ", ".join(slow)) if slow else "PASS: every case within its target")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
