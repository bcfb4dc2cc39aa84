"""How fast a morning of digests reaches Telegram without tripping its flood control.

    python -m bench.fanout                    # 1,000 digests, 50 ms per API call
    python -m bench.fanout --officers 60      # a quick smoke run

A fake Bot API runs in its own process and answers 429 to any message beyond 30 in a second,
or to one chat beyond a burst of 3 and then one a second. This process queues one morning's digests
with the real job, then delivers them with the real outbox sender and python-telegram-bot,
and prints the messages per second the fake accepted and how many it refused.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.digest import morning_runtime, seed
from bot.answers import AnswerSender
from bot.channels.telegram import TelegramChannel
from bot.cli import pacers_for
from bot.outbox import OutboxSender
from bot.runtime import Runtime, utc_now
from bot.scheduler import run_digests
from bot.settings import load_settings
from storage.models import Outbox, OutboxState
from tests.fake_telegram import FakeTelegramAPI

TARGET_RATE = 27.0


def serve(latency: float, conn: Connection) -> None:
    """The fake Bot API, in a process of its own; reports what it saw when told to stop."""

    async def run() -> None:
        async with FakeTelegramAPI(flood_control=True, latency=latency) as api:
            conn.send(api.root)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            accepted = [c for c in api.calls if c.method.startswith("send") and not c.failed]
            by_chat: dict[str, list[str]] = {}
            for call in accepted:
                by_chat.setdefault(str(call.params["chat_id"]), []).append(call.method)
            conn.send(
                {
                    "accepted": len(accepted),
                    "refused": api.flood_refusals,
                    "seconds": accepted[-1].at - accepted[0].at if len(accepted) > 1 else 0.0,
                    "in_order": sum(1 for methods in by_chat.values() if _chart_then_text(methods)),
                }
            )

    asyncio.run(run())


def _chart_then_text(methods: list[str]) -> bool:
    """A digest as it should arrive: the chart, then its text (in one piece or several)."""
    return methods[:1] == ["sendPhoto"] and len(methods) > 1 and set(methods[1:]) == {"sendMessage"}


async def deliver(path: Path, root: str, token: str) -> tuple[int, float]:
    """Queue the morning's digests and send them all; returns (digests sent, wall seconds)."""
    runtime = morning_runtime(path)
    await run_digests(runtime)
    runtime.clock = utc_now  # delivery runs in real time, so retries fall due as they would
    pacers = pacers_for(load_settings(_env_file=None), ["telegram"])
    answers = AnswerSender(runtime.db, runtime.commits, runtime.sealer, pacers)
    channel = TelegramChannel(runtime, token, root, answers=answers, polling=False)
    await channel.start()
    sender = OutboxSender(runtime, {"telegram": channel}, pacers=answers.pacers)
    began = time.perf_counter()
    sending = asyncio.create_task(sender.run_forever())  # as `tipline run` does
    try:
        while True:  # the database says when everything is out; nothing in memory does
            if not await _pending(runtime):
                break
            await asyncio.sleep(0.25)
    finally:
        sending.cancel()
        await channel.stop()
    seconds = time.perf_counter() - began
    async with runtime.db.reading() as db:
        sent = await db.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.state == OutboxState.SENT)
        )
    await runtime.db.dispose()
    return int(sent or 0), seconds


async def _pending(runtime: Runtime) -> bool:
    async with runtime.db.reading() as db:
        found = await db.scalar(select(Outbox.id).where(Outbox.state == OutboxState.PENDING))
    return found is not None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--officers", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument(
        "--smoke", action="store_true", help="check delivery only, not the rate (tiny runs in CI)"
    )
    args = parser.parse_args()
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.latency, there), daemon=True)
    server.start()
    root = here.recv()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fanout.db"
        seed(path, tips=20_000, groups=30, officers=args.officers)
        sent, wall = asyncio.run(deliver(path, root, FakeTelegramAPI().token))
    here.send("stop")
    seen: dict[str, Any] = here.recv()
    server.join(timeout=10)
    rate = seen["accepted"] / seen["seconds"] if seen["seconds"] else 0.0
    latency = f"{args.latency * 1000:.0f} ms"
    print(f"digests sent: {sent:,} of {args.officers:,} in {wall:.1f} s (API latency {latency})")
    print(f"messages accepted: {seen['accepted']:,} at {rate:.1f} msg/s (target >= {TARGET_RATE})")
    print(f"429 answers: {seen['refused']} (target 0)")
    print(f"chats that got their chart, then the text: {seen['in_order']:,}")
    ok = (
        sent == args.officers
        and (rate >= TARGET_RATE or args.smoke)
        and seen["refused"] == 0
        and seen["in_order"] == args.officers
    )
    print(("SMOKE " if args.smoke else "") + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
