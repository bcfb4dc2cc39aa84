"""Nothing is lost in the field (issue 14): Tipline against Telegram's real limits.

    python -m bench.field                              # 300 residents, 1,000 digests queued
    python -m bench.field --smoke                      # 8 residents, 40 digests: correctness
    python -m bench.field --limit 1000 --burst 1000    # no effective limits: checks the bench

A fake Bot API in its own process (tests/fake_flood.py) enforces Telegram's limits: 30
messages in any second bot-wide, a token bucket per chat (3 at once, refilled 1 a second),
429 with retry_after and a flood wait, optionally failing calls. It also plays the residents:
each walks bench/throughput.py's tip flow as typed words, typing the next step only once the
bot's answer to the last has been accepted and a think time has passed, and typing the same
again after 20 s of silence. Before they start, one officer is on duty and 1,000 digest-like
messages to as many officers wait in the outbox; one resident's tip is urgent, and the delay
until its alert reaches the officer on duty is measured. The bot is the real `tipline run`
on SQLite. Printed: receipts, tips stored with and without one, residents stuck, retypes,
429s, accepted messages a second while work was queued, answer latency, the urgent alert's
delay, each target's PASS or FAIL and the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.digest import morning_runtime
from bench.throughput import FIRST_CHAT, FLOW, MARKERS, commands, emptied, webhook_command
from bot.runtime import Runtime, utc_now
from handlers.common.types import Priority, Reply
from handlers.officers.enrolment import invite_officer
from storage.db import Database
from storage.migrate import upgrade
from storage.models import AlertLevel, Tip
from storage.officers import enrol_officer, get_invite, set_officer
from storage.outbox import add_outbox_to_officers
from tests.fake_flood import LimitedTelegramAPI, TelegramLimits, posts_message
from tests.fake_telegram import DEFAULT_TOKEN, JSONDict
from tests.fake_webhook import WebhookDelivery, to_webhooks

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-field-" + "s" * 40
SEND_RATE = 30  # TIPLINE_SEND_RATE, its default: Telegram's bot-wide limit
DUTY_CHAT = 90_000
FIRST_OFFICER_CHAT = 500_000
URGENT_STEP = FLOW.index("khong")  # the urgency question: the urgent resident types "co"
RECEIPT = re.compile(r"Mã tin báo: (\S+)\nMật khẩu: \d{4} ?\d{4}\b")
ALERT = "TIN KHẨN"
ALERT_SECONDS = 5.0
RATE_SHARE = 0.9  # of the limit, while work is queued
SAMPLE_SECONDS = 0.1
HEAD_START = 30.0  # the urgent resident's, at most: a thousand digests take 33 s or more
DIGEST_TEXT = (
    "📊 Bản tin sáng: 24 giờ qua\n"
    "Tin mới: 14 (+3 so với hôm trước)\n"
    "• Ma túy: 5 (+2)\n• Trộm cắp: 4 (−1)\n• Đánh bạc: 3 (+1)\n• Khác: 2 (+1)\n"
    "Khẩn: 1 — KX7P-3MQA Ma túy · Xã Kiên Giang · đang xác minh\n"
    "Đang mở theo tuổi: dưới 1 ngày 9, 1–3 ngày 6, 3–7 ngày 4, trên 7 ngày 2 (quá hạn 2)\n"
    "Câu hỏi chờ người báo tin trả lời: 3; câu trả lời chưa ai mở: 1\n"
    "Tuần tra: 28 ca theo kế hoạch, 25 đã đi, 2 muộn, 1 bỏ; 61 giờ; 84 điểm kiểm tra; "
    "2 sự việc"
)


@dataclass(frozen=True)
class Field:
    """One run's sizes, the people's behaviour and the platform's limits."""

    residents: int
    digests: int
    limits: TelegramLimits
    think: tuple[float, float]
    retype_after: float
    deadline: float
    seed: int = 14
    database_url: str = ""  # PostgreSQL, emptied first; SQLite in a temporary folder if empty
    processes: int = 0  # that many `tipline webhook` processes; 0: one `tipline run`


class Resident:
    """A person walking the tip flow: types a step, waits for the answer, thinks, types the next."""

    def __init__(self, town: Town, chat: int, *, urgent: bool) -> None:
        self.town = town
        self.chat = chat
        self.user = town.api.user(chat, f"Cư dân {chat - FIRST_CHAT}")
        self.steps = [step.format(chat=chat) for step in FLOW]
        if urgent:
            self.steps[URGENT_STEP] = "co"  # "Có", typed as on a phone without accents
        self.rng = random.Random(f"{town.field.seed}-{chat}")
        self.step = 0
        self.waiting_since: float | None = None  # when the step waited on was first typed
        self.confirmed_at: float | None = None  # when the last step was first typed
        self.heard = asyncio.Event()
        self.answered = asyncio.Event()
        self.reviewing = asyncio.Event()  # only the confirmation is left to type
        self.latencies: list[float] = []
        self.retypes = 0
        self.skips = 0
        self.receipts: list[str] = []

    def hear(self, text: str, at: float) -> None:
        """A message from the bot was accepted for this chat."""
        self.heard.set()
        receipt = RECEIPT.search(text)
        if receipt is not None:
            self.receipts.append(receipt.group(1).replace("-", ""))
            self.town.last_receipt = at
        if self.waiting_since is None:
            return  # thinking, or done: a late or repeated answer changes nothing
        # The furthest step this message answers: the bot may be ahead of the person, having
        # taken a retyped answer as the next step's (a commune typed again becomes the place,
        # then the story). A person reads what the bot now asks and goes on from there.
        answered = [n for n in range(self.step, len(MARKERS)) if MARKERS[n] in text]
        if not answered:
            return
        self.skips += answered[-1] - self.step
        self.step = answered[-1] + 1
        self.latencies.append(at - self.waiting_since)
        self.waiting_since = None
        self.answered.set()
        if self.step == len(self.steps) - 1:
            self.reviewing.set()

    async def walk(self) -> None:
        """Type every step of the flow, each after the answer to the last and a think time."""
        field = self.town.field
        while self.step < len(self.steps):
            await asyncio.sleep(self.rng.uniform(*field.think))
            typed = self.steps[self.step]
            self.answered.clear()
            self.waiting_since = self.town.api.clock()
            if self.step == len(self.steps) - 1:
                self.confirmed_at = self.waiting_since
                self.town.confirming(self)
            self._type(typed)
            while not self.answered.is_set():
                self.heard.clear()
                try:
                    await asyncio.wait_for(self.heard.wait(), field.retype_after)
                except TimeoutError:
                    # Nothing for a while: people type it again, which takes them a moment too.
                    await asyncio.sleep(self.rng.uniform(*field.think))
                    if not self.answered.is_set():
                        self.retypes += 1
                        self._type(typed)

    def _type(self, typed: str) -> None:
        self.town.send(self.town.api.text_update(self.user, typed))


class Town:
    """The residents and officers on the fake's side: who heard what, and when."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.api = LimitedTelegramAPI(field.limits, on_message=self.hear)
        self.residents = {
            FIRST_CHAT + n: Resident(self, FIRST_CHAT + n, urgent=n == 0 and field.digests > 0)
            for n in range(field.residents)
        }
        self.digested: Counter[int] = Counter()  # digest messages accepted, by officer chat
        self.alert_at: float | None = None
        self.digests_before_alert = 0
        self.digests_at_confirmation: int | None = None
        self.digests_done: float | None = None
        self.last_receipt: float | None = None
        self.samples: list[tuple[float, int, int]] = []  # (when, messages owed, accepted so far)
        self.began = 0.0
        self.ended: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.crowd_at = 0.0  # seconds after the urgent resident that the others set out
        self.delivery: WebhookDelivery | None = None  # to the webhooks, when there are some
        self.stack = contextlib.AsyncExitStack()

    def send(self, update: JSONDict) -> None:
        """A resident's message on its way to the bot: polled, or through its webhooks."""
        if self.delivery is None:
            self.api.push(update)
        else:
            self.delivery.push(self.api.numbered(update))

    async def _bot_listening(self) -> None:
        """Until the bot asks for updates, or every process has set its webhook."""
        processes = self.field.processes
        while not processes and not any(c.method == "getUpdates" for c in self.api.calls):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if processes:
            hooks = await to_webhooks(self.api, processes)
            self.delivery = await self.stack.enter_async_context(hooks)

    def hear(self, chat: int, params: JSONDict, at: float) -> None:
        """Route an accepted message to the resident or officer whose chat it is."""
        text = str(params.get("text") or params.get("caption") or "")
        resident = self.residents.get(chat)
        if resident is not None:
            resident.hear(text, at)
        elif chat == DUTY_CHAT and ALERT in text and self.alert_at is None:
            self.alert_at = at
            self.digests_before_alert = len(self.digested)
        elif FIRST_OFFICER_CHAT <= chat < FIRST_OFFICER_CHAT + self.field.digests:
            self.digested[chat] += 1
            if len(self.digested) == self.field.digests and self.digests_done is None:
                self.digests_done = at

    def confirming(self, resident: Resident) -> None:
        """A resident types the last step: for the urgent one, how far the digests are."""
        if resident is self.urgent and self.digests_at_confirmation is None:
            self.digests_at_confirmation = len(self.digested)

    @property
    def urgent(self) -> Resident | None:
        """The resident whose tip is urgent (none when no digests are queued)."""
        first = self.residents.get(FIRST_CHAT)
        return first if first is not None and self.field.digests else None

    def owed(self) -> int:
        """Messages the bot owes now, each to a chat of its own: answers, digests, the alert."""
        waiting = sum(1 for r in self.residents.values() if r.waiting_since is not None)
        urgent = self.urgent
        alert = urgent is not None and urgent.confirmed_at is not None and self.alert_at is None
        return waiting + self.field.digests - len(self.digested) + alert

    def finished(self) -> bool:
        """Every resident has a receipt, and the urgent alert (if any) has arrived."""
        receipts = all(r.receipts for r in self.residents.values())
        return receipts and (self.urgent is None or self.alert_at is not None)

    async def sample(self) -> None:
        """Record, every tenth of a second, what is owed and how much has been accepted."""
        while True:
            self.samples.append((self.api.clock(), self.owed(), len(self.api.accepted)))
            await asyncio.sleep(SAMPLE_SECONDS)

    async def open(self) -> None:
        """Once the bot listens, send the residents out: the urgent one first."""
        # The others set out once it has its review to confirm (or after HEAD_START), so that
        # its confirmation meets their first burst while the digests are still going out (a
        # thousand take at least 33 s at 30 a second).
        await self._bot_listening()
        self.began = self.api.clock()
        self._tasks.append(asyncio.create_task(self.sample()))
        urgent = self.urgent
        if urgent is not None:
            self._tasks.append(asyncio.create_task(urgent.walk()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(urgent.reviewing.wait(), HEAD_START)
        self.crowd_at = self.api.clock() - self.began
        crowd = [r for r in self.residents.values() if r is not urgent]
        self._tasks += [asyncio.create_task(r.walk()) for r in crowd]

    def close(self) -> None:
        """Call everyone home."""
        for task in self._tasks:
            task.cancel()

    def over(self) -> bool:
        """Whether the run is over: everyone done, or the deadline passed."""
        late = self.api.clock() - self.began > self.field.deadline
        if self.began and self.ended is None and (self.finished() or late):
            self.ended = self.api.clock()
        return self.ended is not None

    def report(self) -> dict[str, Any]:
        """Everything the fake saw, as figures."""
        residents = list(self.residents.values())
        ended = self.ended or self.api.clock()
        refused = [c for c in self.api.calls if c.failed and posts_message(c.method)]
        to_residents = sum(1 for c in refused if int(c.params["chat_id"]) in self.residents)
        urgent = self.urgent
        confirmed = urgent.confirmed_at if urgent is not None else None
        queued_seconds, queued_sends = self._queued(min(self.field.limits.per_second, SEND_RATE))
        latencies = [s for r in residents for s in r.latencies]
        return {
            "receipts": sum(1 for r in residents if r.receipts),
            "once": sum(1 for r in residents if len(r.receipts) == 1),
            "extra": sum(max(len(r.receipts) - 1, 0) for r in residents),
            "codes": sorted({code for r in residents for code in r.receipts}),
            "stuck": sum(1 for r in residents if not r.receipts),
            "stuck_at": Counter(r.step for r in residents if not r.receipts),
            "retypes": sum(r.retypes for r in residents),
            "skips": sum(r.skips for r in residents),
            "latencies": latencies,
            "refused": dict(self.api.refused),
            "refused_to_residents": to_residents,
            "refused_to_officers": len(refused) - to_residents,
            "failed": dict(self.api.failed),
            "accepted": len(self.api.accepted),
            "busiest": self.api.busiest_second(),
            "queued_seconds": queued_seconds,
            "queued_sends": queued_sends,
            "alert_delay": None
            if confirmed is None or self.alert_at is None
            else self.alert_at - confirmed,
            "urgent_confirmed": confirmed is not None,
            "digests_then": self.digests_at_confirmation,
            "digests_before_alert": self.digests_before_alert,
            "digest_chats": len(self.digested),
            "digest_messages": sum(self.digested.values()),
            "digests_twice": sum(1 for count in self.digested.values() if count > 1),
            "wall": ended - self.began if self.began else 0.0,
            "crowd_at": self.crowd_at,
            "last_receipt": self._since_start(self.last_receipt),
            "digests_done": self._since_start(self.digests_done),
        }

    def _since_start(self, at: float | None) -> float | None:
        return None if at is None else at - self.began

    def _queued(self, rate: int) -> tuple[float, int]:
        """Seconds with at least `rate` messages owed, and the messages accepted in them."""
        # Owing less than a second's worth, to chats of their own, the bot could not fill the
        # limit however well it sent: those moments say nothing about its pace.
        seconds, sends = 0.0, 0
        for (when, owed, accepted), (later, _, after) in itertools.pairwise(self.samples):
            if owed >= rate:
                seconds += later - when
                sends += after - accepted
        return seconds, sends


def serve(field: Field, conn: Connection) -> None:
    """The fake Bot API and the town, in a process of their own, until told to stop."""

    async def run() -> None:
        town = Town(field)
        async with town.api:
            conn.send(town.api.root)
            opening = asyncio.create_task(town.open())
            loop = asyncio.get_running_loop()
            while (await loop.run_in_executor(None, conn.recv)) == "over?":
                conn.send(town.over())
            opening.cancel()
            town.close()
            await town.stack.aclose()
            conn.send(town.report())

    asyncio.run(run())


async def seed(url: str, digests: int) -> None:
    """Migrate; enrol the officer on duty and the digests' officers; queue the digests."""
    runtime = morning_runtime(url)
    runtime.clock = utc_now  # the bot's clock: its outbox sends what is due now
    await upgrade(runtime.db)
    if digests:
        async with runtime.db.transaction() as db:
            await _enrol(db, runtime, "Cán bộ trực ban", DUTY_CHAT, AlertLevel.URGENT)
            officers = [
                await _enrol(db, runtime, f"Cán bộ {n + 1}", FIRST_OFFICER_CHAT + n, AlertLevel.OFF)
                for n in range(digests)
            ]
            payload = Reply(DIGEST_TEXT).to_json()
            queued = [(officer, payload) for officer in officers]
            await add_outbox_to_officers(db, queued, now=runtime.clock(), priority=Priority.DIGEST)
    await runtime.db.dispose()


async def _enrol(
    db: AsyncSession, runtime: Runtime, name: str, chat: int, alerts: AlertLevel
) -> int:
    """A district officer, invited and enrolled from `chat` as `/officer CODE` does."""
    ctx = runtime.context()
    officer, code = await invite_officer(
        db, ctx, name=name, area=None, is_admin=False, created_by=None
    )
    invite = await get_invite(db, runtime.sealer.digest("invite", code))
    if invite is None:
        raise RuntimeError("the invite just made is not there")
    await enrol_officer(db, invite, channel="telegram", chat=str(chat), language="vi", now=ctx.now)
    # No digests of their own: the bot's morning job, run at start, adds nothing to the queue.
    await set_officer(db, officer, alerts=alerts, digests=False)
    return officer.id


def measure(field: Field) -> tuple[dict[str, Any], list[str], list[str]]:
    """Run the field once; returns the fake's figures, the tip codes stored, the bot's log."""
    with tempfile.TemporaryDirectory() as folder:
        url = field.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'field.db'}"
        if field.database_url:
            asyncio.run(emptied(url))
        asyncio.run(seed(url, field.digests))
        here, there = multiprocessing.Pipe()
        fake = multiprocessing.Process(target=serve, args=(field, there))
        fake.start()
        root = here.recv()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TIPLINE_TELEGRAM_TOKEN": DEFAULT_TOKEN,
            "TIPLINE_TELEGRAM_API_URL": root,
            "TIPLINE_SECRET_KEY": SECRET,
            "TIPLINE_DATABASE_URL": url,
            "TIPLINE_SEND_RATE": str(SEND_RATE),
            "TIPLINE_LOG_LEVEL": "INFO",
        }
        launches = [webhook_command() for _ in range(field.processes)] or [commands()["tipline"]]
        logs = [Path(folder) / f"bot{n}.log" for n in range(len(launches))]
        bots = [
            subprocess.Popen(launch, env=env, stderr=log.open("w"), cwd=folder)
            for launch, log in zip(launches, logs, strict=True)
        ]
        try:
            _wait(here, bots)
        finally:
            for bot in bots:
                bot.terminate()
            for bot in bots:
                bot.wait(timeout=60)
        here.send("stop")
        seen: dict[str, Any] = here.recv()
        fake.join(timeout=10)
        lines = [line for log in logs for line in log.read_text().splitlines()]
        for bot, log in zip(bots, logs, strict=True):
            if bot.returncode not in (0, -15):
                print(
                    f"tipline exited with {bot.returncode}:",
                    *log.read_text().splitlines()[-15:],
                    sep="\n  ",
                )
        return seen, asyncio.run(_stored_codes(url)), lines


def _wait(conn: Connection, bots: list[subprocess.Popen[bytes]]) -> None:
    """Until the fake says the run is over (done, or its deadline), or a bot is gone."""
    while all(bot.poll() is None for bot in bots):
        conn.send("over?")
        if conn.recv():
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            bots[0].wait(timeout=0.5)


async def _stored_codes(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.reading() as session:
            return list(await session.scalars(select(Tip.code)))
    finally:
        await db.dispose()


def _log_summary(lines: list[str]) -> Counter[str]:
    """The bot's warnings and errors, alike ones counted together (numbers stripped)."""
    found: Counter[str] = Counter()
    for line in lines:
        parts = line.split(" ", 3)  # date, time, level, the rest
        if len(parts) == 4 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            found[f"{parts[2]} " + re.sub(r"\d+", "N", parts[3])] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, help="default 300 (8 with --smoke)")
    parser.add_argument("--digests", type=int, help="queued first; default 1000 (40), 0: none")
    parser.add_argument("--limit", type=int, default=30, help="messages a second, bot-wide")
    parser.add_argument("--burst", type=int, default=3, help="messages a chat takes at once")
    parser.add_argument("--chat-rate", type=float, default=1.0, help="a chat's refill a second")
    parser.add_argument(
        "--retry-after", type=int, default=1, choices=range(1, 6), help="seconds, in each 429"
    )
    parser.add_argument("--faults", type=float, default=0.0, help="share of calls that fail")
    parser.add_argument("--retype-after", type=float, default=20.0, help="seconds of silence")
    parser.add_argument("--deadline", type=float, help="seconds; default 600 (120 with --smoke)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--smoke", action="store_true", help="check what arrives, not the speed")
    parser.add_argument(
        "--database-url", default="", help="Tipline on this PostgreSQL database (emptied first)"
    )
    parser.add_argument(
        "--processes", type=int, default=0, help="Tipline as N `tipline webhook` processes"
    )
    args = parser.parse_args()
    if args.processes > 1 and not args.database_url.startswith("postgresql"):
        parser.error("--processes above 1 needs --database-url postgresql+asyncpg://...")
    smoke = args.smoke
    field = Field(
        residents=args.residents or (8 if smoke else 300),
        digests=args.digests if args.digests is not None else 40 if smoke else 1000,
        limits=TelegramLimits(
            per_second=args.limit,
            chat_burst=args.burst,
            chat_rate=args.chat_rate,
            retry_after=args.retry_after,
            faults=args.faults,
            seed=args.seed,
        ),
        think=(0.05, 0.2) if smoke else (0.3, 2.0),
        retype_after=args.retype_after,
        deadline=args.deadline or (120.0 if smoke else 600.0),
        seed=args.seed,
        database_url=args.database_url,
        processes=args.processes,
    )
    seen, stored, lines = measure(field)
    verdict = report(field, seen, stored, lines, smoke=smoke)
    print(("SMOKE " if smoke else "") + verdict)
    sys.exit(0 if verdict == "PASS" else 1)


def report(
    field: Field, seen: dict[str, Any], stored: list[str], lines: list[str], *, smoke: bool
) -> str:
    """Print the figures and each target; returns PASS, FAIL or INCOMPLETE."""
    lost = len(set(stored) - set(seen["codes"]))
    _print_figures(field, seen, len(stored), lost, lines)
    n, rate_limit = field.residents, min(field.limits.per_second, SEND_RATE)
    rate = _queued_rate(seen)
    delay, then = seen["alert_delay"], seen["digests_then"]
    targets: list[tuple[str, bool | None, bool]] = [  # what, met (None: not measured), in smoke
        (f"{n}/{n} receipts, each once", seen["once"] == n and seen["extra"] == 0, True),
        ("0 stored without a receipt", lost == 0, True),
        ("0 residents stuck", seen["stuck"] == 0, True),
        (
            f"messages a second >= {RATE_SHARE * rate_limit:g} while work is queued",
            None if rate is None else rate >= RATE_SHARE * rate_limit,
            False,
        ),
    ]
    if field.digests:
        # Going first, the urgent resident can confirm well inside the 33 s a thousand digests
        # take at the limit, unless the bot held its answers back behind them: then too late.
        flood = then is not None and then < field.digests
        if delay is not None and not flood and not smoke:
            print("  (confirmed only once every digest was out: no flood left to measure under)")
        targets.append(("urgent alert arrives", delay is not None, True))
        targets.append(
            (
                f"urgent alert within {ALERT_SECONDS:g} s while digests are being sent",
                flood and delay is not None and delay <= ALERT_SECONDS,
                False,
            )
        )
    else:
        targets.append(("urgent alert under a digest flood", None, True))
    results = []
    for what, met, in_smoke in targets:
        if smoke and not in_smoke:
            continue
        results.append(met)
        print(f"  {'PASS' if met else 'NOT MEASURED' if met is None else 'FAIL'}: {what}")
    return "FAIL" if False in results else "INCOMPLETE" if None in results else "PASS"


def _queued_rate(seen: dict[str, Any]) -> float | None:
    """Messages accepted a second while work was queued (None: it never was)."""
    return seen["queued_sends"] / seen["queued_seconds"] if seen["queued_seconds"] else None


def _print_figures(
    field: Field, seen: dict[str, Any], stored: int, lost: int, lines: list[str]
) -> None:
    """What the run did, figure by figure."""
    limits, n = field.limits, field.residents
    rate_limit = min(limits.per_second, SEND_RATE)
    print(
        f"--- {n} residents, {field.digests:,} digests queued; Telegram: {limits.per_second}/s"
        f" bot-wide, a chat {limits.chat_burst} at once refilled {limits.chat_rate:g}/s,"
        f" retry_after {limits.retry_after} s, faults {limits.faults:.0%}"
    )
    print(
        f"receipts: {seen['receipts']}/{n} residents (exactly one: {seen['once']},"
        f" receipts beyond the first: {seen['extra']})"
    )
    print(f"tips stored: {stored}; stored, receipt never arrived: {lost}")
    where = ", ".join(
        f"{count} waiting for '{MARKERS[step] if step < len(MARKERS) else 'a whole receipt'}'"
        for step, count in sorted(seen["stuck_at"].items())
    )
    print(
        f"residents stuck (no receipt by the end): {seen['stuck']}"
        + (f" ({where})" if where else "")
    )
    print(
        f"retypes after {field.retype_after:g} s of silence: {seen['retypes']:,};"
        f" steps the bot took from a retype, not typed again: {seen['skips']}"
    )
    refused = seen["refused"]
    print(
        f"429s sent to the bot: {sum(refused.values()):,} (over the bot-wide limit"
        f" {refused.get('bot', 0):,}, a chat's {refused.get('chat', 0):,}, inside a flood wait"
        f" {refused.get('wait', 0):,}); refused messages to residents"
        f" {seen['refused_to_residents']:,}, to officers {seen['refused_to_officers']:,}"
    )
    if limits.faults:
        failed = seen["failed"]
        print(
            f"calls failed on purpose: 502 {failed.get('502', 0)}, held unanswered"
            f" {failed.get('held', 0)}, connection dropped {failed.get('dropped', 0)}"
        )
    rate = _queued_rate(seen)
    shown = f"{rate:.1f}/s over {seen['queued_seconds']:.1f} s" if rate is not None else "never"
    print(
        f"messages accepted: {seen['accepted']:,}; while at least {rate_limit} were owed {shown};"
        f" busiest second {seen['busiest']} (limit {limits.per_second})"
    )
    latencies = sorted(seen["latencies"])
    if latencies:
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
        print(
            f"answer latency (typed → answer accepted): p50 {statistics.median(latencies):.2f} s,"
            f" p99 {p99:.2f} s ({len(latencies):,} answers)"
        )
    delay, then = seen["alert_delay"], seen["digests_then"]
    if field.digests:
        if delay is not None:
            print(
                f"urgent alert: {delay:.2f} s after the confirmation; digests delivered then"
                f" {then:,}/{field.digests:,}, when it arrived {seen['digests_before_alert']:,}"
                f" (the others set out {seen['crowd_at']:.1f} s after the urgent resident)"
            )
        else:
            filed = "typed" if seen["urgent_confirmed"] else "never typed"
            print(f"urgent alert: never arrived (the urgent resident's confirmation was {filed})")
        done = seen["digests_done"]
        print(
            f"digests delivered: {seen['digest_chats']:,}/{field.digests:,} officers"
            + (f", the last {done:.1f} s after the residents began" if done is not None else "")
            + f" ({seen['digest_messages']:,} messages; officers who got theirs more than once:"
            f" {seen['digests_twice']})"
        )
    last = seen["last_receipt"]
    print(
        f"wall time: {seen['wall']:.1f} s (deadline {field.deadline:g} s)"
        + (f"; the last receipt came {last:.1f} s after the residents began" if last else "")
    )
    for pattern, count in _log_summary(lines).most_common(6):
        print(f"  bot log ×{count}: {pattern[:150]}")


if __name__ == "__main__":
    main()
