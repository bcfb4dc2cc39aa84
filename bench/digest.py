"""How long one morning's digests take on a district-sized SQLite database, and how much memory.

    python -m bench.digest                     # 1,000,000 tips, 300 groups, 1,000 officers
    python -m bench.digest --tips 20000 --officers 50 --groups 10   # a quick smoke run

A child process seeds the database (a year of tips, patrol groups with a week of shifts,
officers with the previous days' digests already claimed); this process then runs the real
scheduler job at 07:00 (plan, aggregate, build every digest, claim and queue them) and draws
every distinct chart, and prints the time and its own peak RSS against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.stories import story
from bot.charts import render_chart
from bot.runtime import Runtime
from bot.scheduler import run_digests
from bot.settings import load_settings
from handlers.common.sealing import Sealer
from handlers.common.types import Reply
from storage.db import Database
from storage.migrate import upgrade
from storage.outbox import list_outbox

ROOT = Path(__file__).resolve().parent.parent

MORNING = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # Wednesday 07:00 in Vietnam
TARGET_SECONDS, TARGET_MB = 10.0, 300.0


def stamp(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite: naive UTC with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# The last migration before the tips' words were indexed for the desk's search (0019).
BEFORE_SEARCH = "0018"


def seed(path: Path, tips: int, groups: int, officers: int, revision: str = "head") -> None:
    """Fill a database migrated to `revision` with a year of a district's life."""
    # The words are indexed once at the end, by the migration: faster than tip by tip.
    asyncio.run(_migrate(path, BEFORE_SEARCH))
    catalog = load_settings(_env_file=None).catalog()
    areas = [area.code for area in catalog.areas]
    categories = [category.code for category in catalog.categories]
    rng = random.Random(2026)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    _seed_tips(db, rng, tips, areas, categories)
    _seed_officers(db, rng, officers, areas)
    _seed_patrols(db, rng, groups, areas)
    db.commit()
    db.close()
    if revision != BEFORE_SEARCH:
        asyncio.run(_migrate(path, revision))
    db = sqlite3.connect(path)
    db.execute("ANALYZE")
    db.close()


async def _migrate(path: Path, revision: str) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database, revision)
    await database.dispose()


TIP_COLUMNS = (
    "code, category, area, place, description, occurred, urgent, language, passphrase_hash,"
    " failed_checks, status, created_at, status_at, top_only"
)


def tip_rows(
    rng: random.Random,
    count: int,
    areas: list[str],
    cats: list[str],
    when: Callable[[datetime], Any] = stamp,
) -> Iterator[tuple[Any, ...]]:
    """A year of tips as rows of TIP_COLUMNS, each time as `when` writes it."""
    year = 365 * 24 * 3600
    # Their words from a generator of their own: a story's length leaves the other draws alone.
    texts = random.Random(17)
    for n in range(count):
        created = MORNING - timedelta(seconds=rng.randrange(year))
        age = MORNING - created
        # Recent tips are mostly still open; older ones were dealt with or closed.
        if age < timedelta(days=14) and rng.random() < 0.7:
            status = rng.choice(["received", "verifying"])
        elif rng.random() < 0.01:
            status = "verifying"  # the forgotten ones: overdue
        else:
            status = rng.choice(["handled", "closed_unfounded", "closed_duplicate"])
        moved = created + timedelta(hours=rng.randrange(1, 96))
        category = rng.choice(cats)
        description, place = story(texts, category)
        yield (
            f"{n:08X}",
            category,
            rng.choice(areas),
            place,
            description,
            "today",
            rng.random() < 0.05,
            "vi",
            "bench",
            0,
            status,
            when(created),
            when(min(moved, MORNING)),
            rng.random() < 0.03,
        )


def _seed_tips(
    db: sqlite3.Connection, rng: random.Random, count: int, areas: list[str], cats: list[str]
) -> None:
    places = ", ".join("?" for _ in TIP_COLUMNS.split(","))
    db.executemany(
        f"INSERT INTO tip ({TIP_COLUMNS}) VALUES ({places})",
        tip_rows(rng, count, areas, cats),
    )
    thread: list[tuple[int, str, str, str, str | None, str | None]] = []
    for tip_id in rng.sample(range(1, count + 1), min(3000, count)):
        asked = MORNING - timedelta(hours=rng.randrange(1, 400))
        answered = stamp(asked + timedelta(hours=2)) if rng.random() < 0.6 else None
        thread.append((tip_id, "question", "Bạn thấy mấy người?", stamp(asked), answered, None))
        if answered:
            read = answered if rng.random() < 0.7 else None
            thread.append((tip_id, "answer", "Ba người", answered, None, read))
    db.executemany(
        "INSERT INTO thread_message (tip_id, role, text, created_at, answered_at, read_at)"
        " VALUES (?,?,?,?,?,?)",
        thread,
    )


def _seed_officers(
    db: sqlite3.Connection, rng: random.Random, count: int, areas: list[str]
) -> None:
    enrolled = stamp(MORNING - timedelta(days=60))
    officers = [
        (
            n + 1,
            f"Cán bộ {n + 1}",
            None if n % 10 == 0 else rng.choice(areas),
            n % 20 == 0,
            "telegram",
            str(10_000 + n),
            "en" if n % 7 == 0 else "vi",
            rng.choice(["all", "urgent", "off"]),
            enrolled,
            enrolled,
            True,
            stamp(MORNING - timedelta(days=2)) if n % 97 == 5 else None,
            "blocked by the user" if n % 97 == 5 else None,
        )
        for n in range(count)
    ]
    db.executemany(
        "INSERT INTO officer (id, name, area, is_admin, channel, chat, language, alerts,"
        " created_at, enrolled_at, digests, unreachable_at, unreachable_reason)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        officers,
    )
    # The bot ran every morning before this one: those digests are claimed already.
    claims = [
        (
            officer,
            "daily",
            (MORNING - timedelta(days=days)).date().isoformat(),
            "sent",
            stamp(MORNING),
        )
        for officer in range(1, count + 1)
        for days in range(1, 9)
    ]
    claims += [
        (officer, "weekly", "2026-11-23", "sent", stamp(MORNING)) for officer in range(1, count + 1)
    ]
    db.executemany(
        "INSERT INTO digest_claim (officer_id, kind, period, state, created_at) VALUES (?,?,?,?,?)",
        claims,
    )


def _seed_patrols(db: sqlite3.Connection, rng: random.Random, count: int, areas: list[str]) -> None:
    created = stamp(MORNING - timedelta(days=90))
    for group in range(1, count + 1):
        db.execute(
            "INSERT INTO patrol_group (id, name, area, join_hash, max_members, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (group, f"Tổ tuần tra {group}", rng.choice(areas), f"hash{group}", 30, created),
        )
        db.execute(
            "INSERT INTO patrol_member (id, group_id, channel, chat, name, joined_at)"
            " VALUES (?,?,?,?,?,?)",
            (group, group, "telegram", str(900_000 + group), f"Thành viên {group}", created),
        )
        db.executemany(
            "INSERT INTO patrol_slot (group_id, weekday, starts, ends) VALUES (?,?,?,?)",
            [(group, day, "21:00", "23:30") for day in range(7)],
        )
        for days in range(1, 9):
            # 21:00 local is 14:00 UTC on the evening `days` before this morning.
            start = MORNING - timedelta(days=days) + timedelta(hours=14)
            roll = rng.random()
            if roll < 0.08:
                closed = stamp(start + timedelta(hours=12)) if rng.random() < 0.5 else None
                db.execute(
                    "INSERT INTO missed_patrol (group_id, planned_start, planned_end, raised_at,"
                    " closed_at) VALUES (?,?,?,?,?)",
                    (
                        group,
                        stamp(start),
                        stamp(start + timedelta(hours=2.5)),
                        stamp(start),
                        closed,
                    ),
                )
                continue
            began = start + timedelta(minutes=rng.randrange(-10, 50 if roll < 0.2 else 20))
            cursor = db.execute(
                "INSERT INTO shift (group_id, member_id, planned_start, planned_end, started_at,"
                " ended_at, late, auto_closed) VALUES (?,?,?,?,?,?,?,?)",
                (
                    group,
                    group,
                    stamp(start),
                    stamp(start + timedelta(hours=2.5)),
                    stamp(began),
                    stamp(began + timedelta(hours=2.5)),
                    began > start + timedelta(minutes=30),
                    False,
                ),
            )
            db.executemany(
                "INSERT INTO patrol_point (shift_id, kind, at, place, far) VALUES (?,?,?,?,?)",
                [
                    (cursor.lastrowid, kind, stamp(began + timedelta(minutes=30 * k)), "Cầu", False)
                    for k, kind in enumerate(
                        ["start", "checkpoint", "checkpoint", "incident"][: rng.randrange(1, 5)]
                    )
                ],
            )


def morning_runtime(path: Path | str) -> Runtime:
    """The bot's runtime on the seeded database (a SQLite file, or a URL), its clock stopped
    at 07:00 that morning."""
    settings = load_settings(_env_file=None)
    url = path if isinstance(path, str) else f"sqlite+aiosqlite:///{path}"
    return Runtime(
        db=Database(url),
        sealer=Sealer("bench-" + "x" * 40),
        catalog=settings.catalog(),
        timezone=settings.zone,
        limits=settings.limits(),
        clock=lambda: MORNING,
    )


async def morning(path: Path) -> tuple[int, float, int, float]:
    """Run the real digest job at 07:00 and draw every distinct chart; returns the figures."""
    runtime = morning_runtime(path)
    began = time.perf_counter()
    queued = await run_digests(runtime)
    built = time.perf_counter() - began
    async with runtime.db.reading() as db:
        charts = {Reply.from_json(row.payload).chart for row in await list_outbox(db)}
    began = time.perf_counter()
    for chart in charts:
        if chart is not None:
            render_chart(chart)
    drawn = time.perf_counter() - began
    await runtime.db.dispose()
    return queued, built, len(charts), drawn


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--officers", type=int, default=1000)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    parser.add_argument(
        "--smoke", action="store_true", help="check the counts only, not the time (tiny runs in CI)"
    )
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.db, args.tips, args.groups, args.officers)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.db"
        if not path.exists():
            began = time.perf_counter()
            command = [sys.executable, "-m", "bench.digest", "--seed-only", "--db", str(path)]
            command += ["--tips", str(args.tips), "--groups", str(args.groups)]
            subprocess.run([*command, "--officers", str(args.officers)], check=True)
            print(
                f"seeded {args.tips:,} tips, {args.groups} groups, {args.officers:,} officers"
                f" in {time.perf_counter() - began:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
            )
        queued, built, charts, drawn = asyncio.run(morning(path))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = built + drawn
    print(f"digests queued: {queued:,} (expected {args.officers:,})")
    print(f"built, claimed and queued in {built:.2f} s; {charts} charts drawn in {drawn:.2f} s")
    print(
        f"total {total:.2f} s (target < {TARGET_SECONDS:.0f} s), peak RSS {peak_mb:.0f} MB"
        f" (target < {TARGET_MB:.0f} MB)"
    )
    fast = total < TARGET_SECONDS and peak_mb < TARGET_MB
    ok = queued == args.officers and (fast or args.smoke)
    print(("SMOKE " if args.smoke else "") + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
