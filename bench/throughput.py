"""How many updates a second Tipline answers when hundreds of residents write at once.

    python -m bench.throughput                       # 500 chats, 0 and 50 ms per API call
    python -m bench.throughput --chats 20 --smoke    # a tiny run: correctness, not speed
    python -m bench.throughput --only tipline --database-url postgresql+asyncpg://...
                                                     # Tipline on PostgreSQL (emptied first)
    python -m bench.throughput --only tipline --latency 0.05 --chats 100 --instructions
                                                     # the bot's instructions per update

With --instructions Tipline runs under valgrind's callgrind, once with the chats asked and once
with twice as many; the difference of the two counts over the difference of the updates is
what one more update costs the bot in instructions, start-up left out. Unlike seconds, the count
is the same on a busy machine and a quiet one, so it can judge a change that the machine's
noise hides (about 60 times slower: use a hundred chats or so).

For each latency a fake Bot API runs in its own process, preloaded with updates from the
chats: for Tipline each chat walks the real tip flow (the /tip command, then the answers
typed as words), so every update is a database transaction; for the echo bots each chat
sends as many numbered texts. Then, one after the other, the real `tipline run`, a bare
python-telegram-bot echo bot (defaults) and a bare aiogram 3 echo bot poll it. Printed:
updates a second for each, the ratios, Tipline's handler time (p50/p99, from its log), peak
RSS, and whether every chat's replies came back in order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import multiprocessing
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handlers.common.texts import text as catalogue_text
from storage.db import Database
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramAPI
from tests.fake_webhook import to_webhooks
from tests.schema import drop_everything

# Typed answers walk the tip flow as on a phone keyboard (the flow takes words for buttons).
FLOW = [
    "/tip",
    "ma tuy",
    "kien giang",
    "bo qua",
    "Có người bán hàng cấm ở chợ, chat {chat}",
    "hom nay",
    "khong",
    catalogue_text("vi", "send.anonymous"),  # the button's label, typed as it reads
]
# What each of those answers starts, in order: a chat whose replies skip or swap them is wrong.
MARKERS = ["Bước 1", "Bước 2", "Bước 3", "Bước 4", "Đã nhận", "khẩn cấp", "Kiểm tra lại", "Mã tin"]
FIRST_CHAT = 100_000
SECRET = "bench-throughput-" + "s" * 40


@dataclass
class Run:
    """What one bot did against one fake."""

    name: str
    updates: int
    seconds: float
    in_order: int
    chats: int
    peak_mb: float
    cpu_seconds: float
    half_mb: float
    end_mb: float
    once: int
    stored: int | None
    handler_ms: list[float]
    instructions: int | None = None  # counted under callgrind, start-up included

    @property
    def rate(self) -> float:
        """Updates answered per second."""
        return self.updates / self.seconds if self.seconds else 0.0


def serve(latency: float, chats: int, tipline: bool, conn: Connection, webhooks: int = 0) -> None:
    """The fake Bot API with the chats' updates; answers "stats" until told "stop".

    Polled, the updates are queued up front; with `webhooks`, once that many processes have
    set their webhook they are delivered to them as Telegram's server does (as many calls in
    flight as setWebhook's max_connections, a chat's next message once the previous one was
    answered 200)."""

    async def run() -> None:
        async with FakeTelegramAPI(latency=latency) as api:
            steps = FLOW if tipline else [f"m{{chat}}-{n}" for n in range(len(FLOW))]
            pairs = itertools.product(steps, range(chats))  # round robin: every chat busy
            updates = [_typed(api, n, step, number) for number, (step, n) in enumerate(pairs, 1)]
            started: list[float] = []  # when the first webhook call went out
            posting = None
            if webhooks:
                posting = asyncio.create_task(_post_when_set(api, updates, webhooks, started))
            else:
                for update in updates:
                    api.push(update)
            conn.send(api.root)
            loop = asyncio.get_running_loop()
            while (await loop.run_in_executor(None, conn.recv)) == "stats":
                stats = _stats(api, chats, tipline)
                if posting is not None:
                    stats["first"] = started[0] if started else 0.0
                conn.send(stats)

    asyncio.run(run())


def _typed(api: FakeTelegramAPI, n: int, step: str, number: int) -> dict[str, Any]:
    """Resident n typing a step of the flow, as update `number`."""
    chat = FIRST_CHAT + n
    update = api.text_update(api.user(chat, f"Resident {n}"), step.format(chat=chat))
    return {**update, "update_id": number}


async def _post_when_set(
    api: FakeTelegramAPI, updates: list[dict[str, Any]], processes: int, started: list[float]
) -> None:
    """Once every process set its webhook, deliver the updates to them as Telegram's server
    would (tests/fake_webhook.py), a load balancer spreading the calls in turn."""
    async with await to_webhooks(api, processes) as delivery:
        started.append(time.monotonic())
        for update in updates:
            delivery.push(update)
        await delivery.delivered()


def _stats(api: FakeTelegramAPI, chats: int, tipline: bool) -> dict[str, Any]:
    polls = [c.at for c in api.calls if c.method == "getUpdates"]
    sent = [c for c in api.calls if c.method == "sendMessage" and not c.failed]
    by_chat: dict[str, list[str]] = {}
    for call in sent:
        by_chat.setdefault(str(call.params["chat_id"]), []).append(str(call.params["text"]))
    done = sum(1 for texts in by_chat.values() if _complete(texts, tipline))
    return {
        "done": done,
        # One answer per update (every step of FLOW answers with one message): more would mean
        # an update handled twice, fewer one lost.
        "once": sum(1 for texts in by_chat.values() if len(texts) == len(FLOW)),
        "in_order": sum(1 for texts in by_chat.values() if _ordered(texts, tipline)),
        "first": polls[0] if polls else 0.0,
        "last": sent[-1].at if sent else 0.0,
        "chats": chats,
    }


def _complete(texts: list[str], tipline: bool) -> bool:
    return any("Mã tin" in text for text in texts) if tipline else len(texts) >= len(FLOW)


def _ordered(texts: list[str], tipline: bool) -> bool:
    if not tipline:
        numbers = [int(text.rsplit("-", 1)[1]) for text in texts]
        return numbers == list(range(len(FLOW)))
    seen = [next((i for i, t in enumerate(texts) if marker in t), -1) for marker in MARKERS]
    return all(0 <= a < b for a, b in itertools.pairwise(seen)) and seen[-1] >= 0


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    *,
    latency: float,
    chats: int,
    timeout: float,
    database_url: str = "",
    processes: int = 0,
    counting: bool = False,
) -> Run:
    """Start the fake and the bot, wait until every chat is done, stop both; returns figures.

    Tipline runs on a SQLite file of its own, or on `database_url` (emptied first); with
    `processes`, as that many `tipline webhook` processes, their figures summed; `counting`,
    under callgrind, its instructions counted."""
    tipline = name == "tipline"
    here, there = multiprocessing.Pipe()
    fake = multiprocessing.Process(target=serve, args=(latency, chats, tipline, there, processes))
    fake.start()
    root = here.recv()
    with tempfile.TemporaryDirectory() as folder:
        env = {**env, "TIPLINE_TELEGRAM_API_URL": root}
        env["TIPLINE_DATABASE_URL"] = database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        if database_url:
            asyncio.run(emptied(database_url))
        launches = (
            [[*command, root, DEFAULT_TOKEN]]
            if not processes
            else [webhook_command() for _ in range(processes)]
        )
        if counting:
            launches = [[*_callgrind(folder), *launch] for launch in launches]
        logs = [Path(folder) / f"bot{n}.log" for n in range(len(launches))]
        bots = [
            subprocess.Popen(launch, env=env, stderr=log.open("w"), cwd=folder)
            for launch, log in zip(launches, logs, strict=True)
        ]
        stats = _wait_until_done(here, bots, chats, timeout)
        for bot, log in zip(bots, logs, strict=True):
            if bot.poll() is not None:
                tail = log.read_text().splitlines()[-15:]
                print(f"{name} exited early with {bot.returncode}:", *tail, sep="\n  ")
        peak = sum(_memory_mb(bot.pid, "VmHWM") for bot in bots)
        end = sum(_memory_mb(bot.pid, "VmRSS") for bot in bots)
        for bot in bots:
            bot.terminate()
        for bot in bots:
            bot.wait(timeout=600 if counting else 60)
        counted = _instructions(Path(folder)) if counting else None
        text = "".join(log.read_text() for log in logs)
        handler_ms = [float(ms) for ms in re.findall(r" ms=([\d.]+)", text)]
        stored = None
        if tipline:
            stored = (
                asyncio.run(_tips_in_postgres(database_url))
                if database_url
                else _tips_stored(Path(folder) / "bench.db")
            )
    here.send("stop")
    fake.join(timeout=10)
    seconds = stats["last"] - stats["first"]
    updates = chats * len(FLOW)
    return Run(
        name,
        updates,
        seconds,
        stats["in_order"],
        chats,
        peak,
        stats["cpu"],
        stats["half_mb"],
        end,
        stats["once"],
        stored,
        handler_ms,
        counted,
    )


def _callgrind(folder: str) -> list[str]:
    # A file per thread: only the event loop's is read (see _instructions).
    out = f"--callgrind-out-file={folder}/callgrind.%p"
    return ["valgrind", "--tool=callgrind", "--separate-threads=yes", out]


def _instructions(folder: Path) -> int:
    """Instructions the bots' event loops ran, from callgrind's files (written as each process
    ends). The other threads are left out: above all the passphrase hashing (scrypt, 50 ms a
    tip by design), which valgrind runs in turn with the loop but a real machine mostly after
    the burst, on its second core."""
    total = 0
    for found in folder.glob("callgrind.*-01"):
        for line in found.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    return total


def webhook_command() -> list[str]:
    """`tipline webhook` on a free port of its own, for the fake to post to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    where = f"127.0.0.1:{port}"
    url = f"http://{where}/telegram"
    return [sys.executable, "-m", "bot", "webhook", "--listen", where, "--url", url]


async def emptied(url: str) -> None:
    """Drop everything in the PostgreSQL database's public schema: each run starts fresh."""
    db = Database(url)
    try:
        await db.run_on_connection(drop_everything)
    finally:
        await db.dispose()


async def _tips_in_postgres(url: str) -> int:
    db = Database(url)
    try:
        async with db.reading() as session:
            return int(await session.scalar(text("SELECT count(*) FROM tip")) or 0)
    except DBAPIError:  # the bot died before creating its tables
        return 0
    finally:
        await db.dispose()


def _tips_stored(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM tip").fetchone()[0])
        except sqlite3.OperationalError:  # the bot died before creating its tables
            return 0


def _wait_until_done(
    conn: Connection, bots: list[subprocess.Popen[bytes]], chats: int, timeout: float
) -> dict[str, Any]:
    """Wait until every chat is done; the stats also get the bots' CPU seconds (summed) since
    the first update reached them."""
    deadline = time.monotonic() + timeout
    started_cpu = None
    half_mb = 0.0
    while True:
        # Often until the first update, so that start-up is left out of the CPU figure.
        time.sleep(0.5 if started_cpu is not None else 0.02)
        conn.send("stats")
        stats: dict[str, Any] = conn.recv()
        if started_cpu is None and stats["first"]:
            started_cpu = sum(_cpu_seconds(bot.pid) for bot in bots)
        gone = any(bot.poll() is not None for bot in bots)
        if not half_mb and stats["done"] >= chats / 2 and not gone:
            half_mb = sum(_memory_mb(bot.pid, "VmRSS") for bot in bots)
        stats["half_mb"] = half_mb
        if stats["done"] >= chats or gone or time.monotonic() > deadline:
            stats["cpu"] = sum(_cpu_seconds(bot.pid) for bot in bots) - (started_cpu or 0.0)
            return stats


def _cpu_seconds(pid: int) -> float:
    """CPU time the process used so far, all threads (0 if it is gone)."""
    with contextlib.suppress(FileNotFoundError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _memory_mb(pid: int, field: str) -> float:
    """A memory figure of the process: VmRSS now, VmHWM its peak (0 if it is gone)."""
    with contextlib.suppress(FileNotFoundError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def commands() -> dict[str, list[str]]:
    """How to start each bot; the root URL and token are appended."""
    python = sys.executable
    found = {
        # `tipline run` itself; its settings come from the environment, so the root and token
        # appended for the echo bots are dropped from its command line.
        "tipline": [
            python,
            "-c",
            "import sys; from bot.cli import main; sys.argv[1:] = []; main(['run'])",
        ],
        "ptb-echo": [python, "-m", "bench.echo_bots", "ptb"],
    }
    if importlib.util.find_spec("aiogram") is not None:
        found["aiogram-echo"] = [python, "-m", "bench.echo_bots", "aiogram"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--latency", type=float, action="append", help="seconds (repeatable)")
    parser.add_argument("--smoke", action="store_true", help="check the answers, not the speed")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for a bot")
    parser.add_argument(
        "--only", action="append", choices=list(commands()), help="run just these bots"
    )
    parser.add_argument(
        "--database-url", default="", help="Tipline on this PostgreSQL database (emptied first)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="Tipline as N `tipline webhook` processes (N > 1 needs --database-url)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count Tipline's instructions per update under callgrind (see above)",
    )
    args = parser.parse_args()
    if args.processes > 1 and not args.database_url.startswith("postgresql"):
        parser.error("--processes above 1 needs --database-url postgresql+asyncpg://...")
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "TIPLINE_TELEGRAM_TOKEN": DEFAULT_TOKEN,
        "TIPLINE_SECRET_KEY": SECRET,
        "TIPLINE_LOG_LEVEL": "INFO",
        # The lab's fake never refuses, so nothing needs pacing: the bot is told the same
        # (bench/field.py measures it against Telegram's real limits).
        "TIPLINE_SEND_RATE": "1000000",
        "TIPLINE_CHAT_BURST": "1000000",
    }
    if args.instructions:
        sys.exit(count_instructions(args, env))
    verdicts = []
    for latency in args.latency or [0.0, 0.05]:
        runs = {
            name: measure(
                name,
                command,
                env,
                latency=latency,
                chats=args.chats,
                timeout=args.timeout,
                database_url=args.database_url,
                processes=args.processes if name == "tipline" else 0,
            )
            for name, command in commands().items()
            if not args.only or name in args.only
        }
        verdicts.append(report(runs, latency, smoke=args.smoke))
    # A target nobody measured is neither met nor missed: a partial run says so.
    verdict = "FAIL" if False in verdicts else "INCOMPLETE" if None in verdicts else "PASS"
    print(("SMOKE " if args.smoke else "") + verdict)
    sys.exit(0 if verdict == "PASS" else 1)


def count_instructions(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Print what one more update costs Tipline in instructions; 0 if every run was right."""
    latency = (args.latency or [0.05])[0]
    runs = [
        measure(
            "tipline",
            commands()["tipline"],
            env,
            latency=latency,
            chats=chats,
            timeout=args.timeout * 10,
            database_url=args.database_url,
            processes=args.processes,
            counting=True,
        )
        for chats in (args.chats, 2 * args.chats)
    ]
    for run in runs:
        print(
            f"  {run.updates} updates: {run.instructions or 0:,} instructions in all, every "
            f"chat in order and answered once, every tip stored: {'yes' if _right(run) else 'NO'}"
        )
    small, large = runs
    extra = ((large.instructions or 0) - (small.instructions or 0)) / (
        large.updates - small.updates
    )
    print(f"  instructions per update: {extra / 1e6:.2f} million (start-up left out)")
    return 0 if all(_right(run) for run in runs) else 1


def _right(run: Run) -> bool:
    return run.in_order == run.chats == run.once == run.stored


# The memory target is set for a run of this many updates (issue 7).
MEMORY_RUN_UPDATES = 100_000
MEMORY_LIMIT_MB = 150.0
MEMORY_GROWTH_MB = 5.0


def report(runs: dict[str, Run], latency: float, *, smoke: bool) -> bool | None:
    """Print one latency's figures; whether its targets were met (None: some were not run)."""
    print(f"--- API latency {latency * 1000:.0f} ms, {next(iter(runs.values())).chats} chats")
    for run in runs.values():
        _print_run(run)
    # The order and once targets are Tipline's; the echo bots' own order is shown, not judged
    # (aiogram runs a chat's updates concurrently and may swap them).
    tipline = runs.get("tipline")
    correct = all(run.in_order == run.chats == run.once for run in runs.values())
    if tipline is not None:
        correct = tipline.in_order == tipline.chats == tipline.once
        correct &= tipline.stored == tipline.chats
        print(f"  tips stored: {tipline.stored}/{tipline.chats}")
    verdict = "yes" if correct else "NO"
    print(f"  Tipline: every chat in order, each update answered once: {verdict}")
    fast = _compare(runs, latency)
    lean = tipline is None or _memory(tipline)
    if not correct or (not smoke and (fast is False or not lean)):
        return False
    return True if smoke else fast


def _print_run(run: Run) -> None:
    timing = ""
    if run.handler_ms:
        p50 = statistics.median(run.handler_ms)
        p99 = statistics.quantiles(run.handler_ms, n=100)[98] if len(run.handler_ms) > 1 else p50
        timing = f", handler p50 {p50:.1f} ms p99 {p99:.1f} ms"
    print(
        f"{run.name:>13}: {run.rate:8.1f} updates/s ({run.updates} in {run.seconds:.1f} s), "
        f"in order {run.in_order}/{run.chats}, answered once {run.once}/{run.chats}, "
        f"CPU {run.cpu_seconds * 1000 / run.updates:.2f} ms/update, RSS peak "
        f"{run.peak_mb:.0f} MB (half-way {run.half_mb:.0f}, end {run.end_mb:.0f}){timing}"
    )


def _compare(runs: dict[str, Run], latency: float) -> bool | None:
    """Whether Tipline met its speed targets against the echo bots (None: one was not run)."""
    wanted = [("ptb-echo", 50.0 if latency else 1.0)]
    if latency:
        wanted.append(("aiogram-echo", 1.5))
    results: list[bool | None] = []
    for name, factor in wanted:
        if name not in runs or "tipline" not in runs:
            print(f"  tipline / {name}: not compared (not run)")
            results.append(None)
            continue
        ratio = runs["tipline"].rate / runs[name].rate if runs[name].rate else 0.0
        met = ratio >= factor
        results.append(met)
        print(f"  tipline / {name}: {ratio:.2f} (target >= {factor}) {'ok' if met else 'MISSED'}")
    return False if False in results else None if None in results else True


def _memory(run: Run) -> bool:
    if run.updates < MEMORY_RUN_UPDATES:
        print(f"  memory: judged on runs of {MEMORY_RUN_UPDATES:,} updates (--chats 12500)")
        return True
    growth = run.end_mb - run.half_mb
    met = run.peak_mb < MEMORY_LIMIT_MB and growth <= MEMORY_GROWTH_MB
    print(
        f"  memory: peak {run.peak_mb:.0f} MB (target < {MEMORY_LIMIT_MB:.0f}), second half "
        f"{growth:+.1f} MB (target <= {MEMORY_GROWTH_MB:+.0f}) {'ok' if met else 'MISSED'}"
    )
    return met


if __name__ == "__main__":
    main()
