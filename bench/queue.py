"""How fast an officer's tip queue pages on a million tips (SQLite), the query `/tips` runs.

    python -m bench.queue                  # 1,000,000 tips, seeded as bench.digest seeds them
    python -m bench.queue --tips 20000 --smoke

Seeds a year of tips (bench/digest.py's seed), then times `list_tips` (count, order, page) for
the whole map and for one commune: the first page of open tips, the overdue ones, a later page
of everything. Prints p50 and p95 of the server time against the officers' desk issue's target
(p95 under 150 ms each). The desk's filters and search are timed by bench/desk.py.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.digest import MORNING, seed
from storage.db import Database
from storage.tips import Scope, list_tips

TARGET_MS = 150.0
REPEATS = 30
CASES = (
    ("whole map, open, first page", None, "open", 0),
    ("whole map, overdue, first page", None, "overdue", 0),
    ("whole map, all, page 50", None, "all", 392),
    ("one commune, open, first page", frozenset({"an-thuy"}), "open", 0),
)


async def timings(path: Path) -> list[tuple[str, float, float, int]]:
    """Each case's p50 and p95 in milliseconds, and how many tips it matched."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    overdue_before = MORNING - timedelta(hours=72)
    results = []
    try:
        for name, areas, which, offset in CASES:
            spent: list[float] = []
            total = 0
            for _ in range(REPEATS):
                async with database.reading() as db:
                    started = time.perf_counter()
                    _, total = await list_tips(
                        db,
                        Scope(areas),
                        which=which,
                        overdue_before=overdue_before,
                        offset=offset,
                        limit=8,
                    )
                    spent.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(spent, n=20)[-1]
            results.append((name, statistics.median(spent), p95, total))
    finally:
        await database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="check it runs; judge nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        seed(path, args.tips, groups=10, officers=10)
        print(f"seeded {args.tips:,} tips in {time.perf_counter() - started:.0f} s")
        results = asyncio.run(timings(path))
    report(results, "tips", smoke=args.smoke)


def report(results: list[tuple[str, float, float, int]], unit: str, *, smoke: bool) -> None:
    """Print each case's p50 and p95 and how many `unit` it matched, then the verdict."""
    for name, p50, p95, total in results:
        print(f"  {name:<34} {total:>9,} {unit}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    if smoke:
        print("SMOKE PASS")
        return
    worst = max(p95 for _, _, p95, _ in results)
    verdict = "PASS" if worst < TARGET_MS else "FAIL"
    print(f"{verdict}: worst p95 {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
