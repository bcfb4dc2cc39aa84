"""How long the desk's overview takes to gather for a district officer on a million tips.

    python -m bench.overview                      # 1,000,000 tips on SQLite
    python -m bench.overview --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_overview
    python -m bench.overview --smoke              # 5,000 tips: it runs, and its numbers are right

Seeds a year of a district's life as bench/digest.py does (a PostgreSQL database gets a copy
of it, emptied first), then gives the tips what the overview reads: pins on three in five,
each tip's "received" history row, an officer's first action within the hour on every tip
that moved, urgent ones taken on; migrating to the newest revision then gives each tip its
first action time (0022's backfill). Times `overview_page` (every query of the page and its
audit row, in one transaction) for the district's officer over 7, 30 and 90 days, and prints
p50 and p95 against the desk issue's target (under 1 s). With --smoke, judges no time but
checks the page's numbers against the same numbers worked out in Python from the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import bindparam, text

from bench.digest import MORNING, morning_runtime, seed
from bench.throughput import emptied
from handlers.common.schedule import local_days
from handlers.triage.overview import Overview, overview_page
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Officer, UTCDateTime

TARGET_MS = 1000.0
REPEATS = 20
PERIODS = (7, 30, 90)
# The last migration before tips kept their first officer action (0022): the seeded history
# reaches the tips through its backfill, as a real database's would.
BEFORE_FIRST_ACTION = "0021"
DISTRICT_OFFICER = 1  # bench.digest seeds every tenth officer district-wide, the first among them
# What the PostgreSQL copy needs of the seeded database, parents first.
TABLES = (
    "officer",
    "tip",
    "tip_event",
    "patrol_group",
    "patrol_member",
    "patrol_slot",
    "shift",
    "patrol_point",
    "missed_patrol",
)


def enrich(path: Path) -> None:
    """Pins, history rows, first actions and acknowledgements for the seeded tips."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        UPDATE tip SET
            latitude = 16.85 + ((id * 2654435761) % 100003) / 100003.0 * 0.5,
            longitude = 106.35 + ((id * 40503) % 100019) / 100019.0 * 0.7
        WHERE id % 5 < 3;
        UPDATE tip SET acknowledged_by_id = 1,
            acknowledged_at = strftime('%Y-%m-%d %H:%M:%S', created_at, '+3 minutes') || '.000000'
        WHERE urgent AND id % 2 = 0;
        INSERT INTO tip_event (tip_id, status, created_at)
            SELECT id, 'received', created_at FROM tip;
        INSERT INTO tip_event (tip_id, status, officer_id, created_at)
            SELECT id, status, 1, strftime('%Y-%m-%d %H:%M:%S', created_at,
                                           '+' || ((id * 7919) % 55 + 5) || ' minutes') || '.000000'
            FROM tip WHERE status != 'received';
        """
    )
    db.commit()
    db.close()


async def migrated(path: Path) -> float:
    """Seconds to migrate the enriched database to the newest revision (the backfill)."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    started = time.perf_counter()
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    db = sqlite3.connect(path)
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


async def copy_to_postgres(path: Path, url: str) -> None:
    """Empty the PostgreSQL database, migrate it, and copy the seeded rows in."""
    await emptied(url)
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    source = sqlite3.connect(path)
    target = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    try:
        for table in TABLES:
            kinds = dict(
                await target.fetch(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name = $1",
                    table,
                )
            )
            cursor = source.execute(f"SELECT * FROM {table}")
            columns = [c[0] for c in cursor.description]
            convert = [_converter(kinds[c]) for c in columns]
            while rows := cursor.fetchmany(50_000):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
                await target.copy_records_to_table(table, records=records, columns=columns)
            if "id" in columns:
                await target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" coalesce((SELECT max(id) FROM {table}), 1))"
                )
        # As autovacuum would have done by the time a real database held a year: without the
        # visibility map, PostgreSQL reads the table behind every index-only scan.
        await target.execute("VACUUM ANALYZE")
    finally:
        await target.close()
        source.close()


def _converter(kind: str) -> Any:
    if kind.startswith("timestamp"):
        return lambda v: None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC)
    if kind == "boolean":
        return lambda v: None if v is None else bool(v)
    return lambda v: v


async def timings(url: str) -> list[tuple[int, float, float, Overview]]:
    """Each period's p50 and p95 in milliseconds, and the last page gathered."""
    runtime = morning_runtime(url)
    results = []
    try:
        for days in PERIODS:
            spent: list[float] = []
            page = None
            for _ in range(REPEATS):
                async with runtime.db.transaction() as db:
                    officer = await db.get(Officer, DISTRICT_OFFICER)
                    assert officer is not None and officer.area is None
                    started = time.perf_counter()
                    page = await overview_page(db, runtime.context(), officer, days)
                    spent.append((time.perf_counter() - started) * 1000)
            assert page is not None
            p95 = statistics.quantiles(spent, n=20)[-1]
            results.append((days, statistics.median(spent), p95, page))
    finally:
        await runtime.db.dispose()
    return results


async def wrong_numbers(url: str, page: Overview) -> list[str]:
    """What the page says that the rows, counted in Python, do not."""
    runtime = morning_runtime(url)
    start, end = local_days(MORNING, runtime.timezone, page.days)
    try:
        async with runtime.db.reading() as db:
            tips = (
                await db.execute(
                    text(
                        "SELECT t.id, t.status, t.created_at, t.status_at, t.acknowledged_at,"
                        " (SELECT min(e.created_at) FROM tip_event e"
                        "  WHERE e.tip_id = t.id AND e.officer_id IS NOT NULL)"
                        " FROM tip t WHERE t.created_at >= :start AND t.created_at < :end"
                    ).bindparams(
                        bindparam("start", type_=UTCDateTime()),
                        bindparam("end", type_=UTCDateTime()),
                    ),
                    {"start": start, "end": end},
                )
            ).all()
    finally:
        await runtime.db.dispose()
    wrong = []
    if page.totals.total != len(tips):
        wrong.append(f"{page.days} days: {page.totals.total} tips, the rows have {len(tips)}")
    action = sorted(
        (min(_when(d) for d in (ack, acted) if d is not None) - _when(created)).total_seconds()
        for _, _, created, _, ack, acted in tips
        if ack is not None or acted is not None
    )
    closing = sorted(
        (_when(moved) - _when(created)).total_seconds()
        for _, status, created, moved, _, _ in tips
        if str(status).startswith("closed")
    )
    everything = page.responses[-1]
    for name, timing, values in (
        ("action", everything.action, action),
        ("closing", everything.closing, closing),
    ):
        # statistics' "inclusive" method is the linear interpolation the overview uses.
        expected = statistics.quantiles(values, n=10, method="inclusive")
        got = (timing.count, timing.median or 0.0, timing.p90 or 0.0)
        want = (len(values), statistics.median(values), expected[8])
        if got[0] != want[0] or abs(got[1] - want[1]) > 0.01 or abs(got[2] - want[2]) > 0.01:
            wrong.append(f"{page.days} days, {name}: {got}, the rows say {want}")
    return wrong


def _when(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (postgresql+asyncpg://...), emptied first"
    )
    parser.add_argument("--smoke", action="store_true", help="check the numbers, judge no time")
    args = parser.parse_args()
    tips = 5_000 if args.smoke else args.tips
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        seed(path, tips, groups=30, officers=10, revision=BEFORE_FIRST_ACTION)
        enrich(path)
        backfill = asyncio.run(migrated(path))
        url = f"sqlite+aiosqlite:///{path}"
        if args.database_url:
            asyncio.run(copy_to_postgres(path, args.database_url))
            url = args.database_url
        engine = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"seeded {tips:,} tips ({engine}) in {time.perf_counter() - started:.0f} s,"
            f" then migrated (0022's backfill) in {backfill:.1f} s"
        )
        results = asyncio.run(timings(url))
        wrong = [w for *_, page in results for w in asyncio.run(wrong_numbers(url, page))]
    for days, p50, p95, page in results:
        print(
            f"  district officer, {days:>2} days  {page.totals.total:>7,} tips"
            f"  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (target < {TARGET_MS:.0f} ms)"
        )
    for line in wrong:
        print(f"  WRONG: {line}")
    if args.smoke:
        print("SMOKE " + ("FAIL" if wrong else "PASS"))
        sys.exit(1 if wrong else 0)
    slow = [days for days, _, p95, _ in results if p95 >= TARGET_MS]
    verdict = "FAIL" if slow or wrong else "PASS"
    print(f"{verdict}: worst p95 {max(p95 for _, _, p95, _ in results):.1f} ms")
    sys.exit(1 if slow or wrong else 0)


if __name__ == "__main__":
    main()
