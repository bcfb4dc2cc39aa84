"""How fast the admins' audit page reads a large audit log (SQLite): the queries it runs.

    python -m bench.audit_log                 # 1,000,000 audit rows
    python -m bench.audit_log --rows 20000 --smoke

Seeds a year of a district (bench/digest.py's seed, 20,000 tips and 200 officers) and an audit
log of `--rows` rows over that year, then times `list_audit_page` (page and count) unfiltered,
by officer, by tip, by action, by a week, combined, a later page, and `list_audit_actions`
(the action filter's list). Prints p50 and p95 of the server time against the desk's target
(bench/queue.py's: p95 under 150 ms each).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bench.digest import MORNING, seed, stamp
from bench.queue import report
from storage.audit import AuditFilter, list_audit_actions, list_audit_page
from storage.db import Database

REPEATS = 30
TIPS, OFFICERS = 20_000, 200
# Roughly how often each action is written: views and queue pages dwarf the rest.
ACTIONS = {
    "view": 50, "desk_queue": 20, "status:verifying": 5, "status:handled": 4,
    "status:closed_spam": 1, "internal_note": 4, "public_note": 2, "question": 2, "assign": 2,
    "acknowledge": 1, "duplicate_of": 1, "undo:handled": 1, "export": 1, "desk_link": 2,
    "desk_sign_in": 2, "desk_sign_out": 1, "desk_audit": 1,
}  # fmt: skip
WEEK_AGO = MORNING - timedelta(days=7)
CASES: tuple[tuple[str, AuditFilter, int], ...] = (
    ("everything, first page", AuditFilter(), 0),
    ("everything, page 100", AuditFilter(), 99 * 50),
    ("one officer", AuditFilter(officer_id=7), 0),
    ("one tip", AuditFilter(tip_id=4242), 0),
    ("one action (export)", AuditFilter(action="export"), 0),
    ("the last week", AuditFilter(since=WEEK_AGO, until=MORNING), 0),
    ("an officer, an action, a week", AuditFilter(officer_id=7, action="view", since=WEEK_AGO), 0),
    ("the operator's rows", AuditFilter(by_operator=True), 0),
)  # fmt: skip


def seed_audit(path: Path, count: int) -> None:
    """Append `count` audit rows over the year before the morning, oldest first."""
    rng = random.Random(2026)
    actions, weights = list(ACTIONS), list(ACTIONS.values())
    year = 365 * 24 * 3600

    def rows() -> Iterator[tuple[object, ...]]:
        for n in range(count):
            action = rng.choices(actions, weights)[0]
            on_tip = action not in {"desk_queue", "export", "desk_link", "desk_sign_in",
                                    "desk_sign_out", "desk_audit"}  # fmt: skip
            officer = None if rng.random() < 0.01 else rng.randint(1, OFFICERS)
            moment = MORNING - timedelta(seconds=year * (count - n) / count)
            tip = rng.randint(1, TIPS) if on_tip else None
            yield officer, action, tip, None, stamp(moment)

    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO audit_log (officer_id, action, tip_id, detail, created_at)"
            " VALUES (?,?,?,?,?)",
            rows(),
        )


async def _time(
    database: Database, run: Callable[[AsyncSession], Awaitable[int]]
) -> tuple[float, float, int]:
    spent: list[float] = []
    found = 0
    for _ in range(REPEATS):
        async with database.reading() as db:
            started = time.perf_counter()
            found = await run(db)
            spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), statistics.quantiles(spent, n=20)[-1], found


async def timings(url: str) -> list[tuple[str, float, float, int]]:
    """Each case's p50 and p95 in milliseconds, and how many rows it matched."""
    database = Database(url)
    results = []
    try:
        for name, chosen, offset in CASES:

            async def page(db: AsyncSession, chosen: AuditFilter = chosen, at: int = offset) -> int:
                return (await list_audit_page(db, chosen, offset=at, limit=50))[1]

            results.append((name, *await _time(database, page)))

        async def actions(db: AsyncSession) -> int:
            return len(await list_audit_actions(db))

        results.append(("the actions present", *await _time(database, actions)))
    finally:
        await database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="check it runs; judge nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        seed(path, TIPS, groups=10, officers=OFFICERS)
        seed_audit(path, args.rows)
        print(f"seeded {args.rows:,} audit rows in {time.perf_counter() - started:.0f} s")
        results = asyncio.run(timings(f"sqlite+aiosqlite:///{path}"))
    report(results, "rows", smoke=args.smoke)


if __name__ == "__main__":
    main()
