"""Morning digests through the real scheduler job, claims, outbox and renderer, on a fake clock."""

from __future__ import annotations

import asyncio
import io
import os
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot.channels.base import DeliveryError, Part
from bot.charts import render_chart
from bot.outbox import OutboxSender
from bot.pacing import Pacer
from bot.runtime import Runtime
from bot.scheduler import run_digests
from handlers.common.types import Reply
from handlers.digests.facts import MorningFacts, Window, chart_window_for
from storage.db import Database
from storage.digests import list_claims
from storage.models import DigestClaim, Officer, Outbox, OutboxState, Tip, TipStatus
from storage.tips import NewTip, Scope, add_tip
from tests.conftest import SECRET, FakeClock, Person
from tests.messages import says
from tests.test_officers import officer, vi

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# 07:00 in Vietnam (UTC+7) is midnight UTC; 2026-11-25 is a Wednesday, 11-23 a Monday.
WEDNESDAY_0700 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
MONDAY_0700 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
# Tuesday 11:00, after that morning's digest time: the first digest due is Wednesday's.
ENROLLED = WEDNESDAY_0700 - timedelta(hours=20)


async def seed_tip(
    runtime: Runtime,
    *,
    at: datetime,
    area: str = "an-thuy",
    category: str = "drugs",
    urgent: bool = False,
    top_only: bool = False,
    description: str = "Có người lạ tụ tập",
    status: TipStatus = TipStatus.RECEIVED,
) -> str:
    """A tip filed at `at`, straight into storage; returns its code."""
    code = secrets.token_hex(4).upper()
    new = NewTip(
        code=code,
        category=category,
        area=area,
        place=None,
        latitude=None,
        longitude=None,
        description=description,
        occurred="today",
        urgent=urgent,
        language="vi",
        passphrase_hash="x",
        attachments=(),
        channel="telegram",
        top_only=top_only,
    )
    async with runtime.db.transaction() as db:
        tip = await add_tip(db, new, now=at)
        tip.status = status
    return code


async def digests_for(runtime: Runtime, name: str) -> list[Reply]:
    """Messages queued for the officer called `name`, oldest first."""
    async with runtime.db.transaction() as db:
        rows = await db.scalars(
            select(Outbox)
            .join(Officer, Officer.id == Outbox.officer_id)
            .where(Officer.name == name)
            .order_by(Outbox.id)
        )
        return [Reply.from_json(row.payload) for row in rows if row.payload.get("chart")]


async def claims(runtime: Runtime) -> list[tuple[str, str, str]]:
    async with runtime.db.transaction() as db:
        return [(c.kind, c.period, c.state) for c in await list_claims(db)]


async def enrolled_at(runtime: Runtime, clock: FakeClock, moment: datetime, name: str) -> Person:
    clock.now = moment
    return await officer(runtime, name, "an-thuy")


async def test_the_daily_digest_goes_at_seven_exactly_once(
    runtime: Runtime, clock: FakeClock
) -> None:
    await enrolled_at(runtime, clock, WEDNESDAY_0700 - timedelta(hours=14), "An")
    clock.now = WEDNESDAY_0700 - timedelta(minutes=1)
    assert await run_digests(runtime) == 0
    clock.now = WEDNESDAY_0700
    assert await run_digests(runtime) == 1
    assert await run_digests(runtime) == 0
    clock.advance(minutes=1)
    assert await run_digests(runtime) == 0
    (digest,) = await digests_for(runtime, "An")
    assert digest.text.startswith(
        vi(
            "digest.head.daily",
            date="25/11",
            scope="Xã An Thủy",
            start="24/11 07:00",
            end="25/11 07:00",
        )
    )
    assert not says(digest.text, "digest.late")
    assert await claims(runtime) == [("daily", "2026-11-25", "sent")]
    clock.now = WEDNESDAY_0700 + timedelta(days=1)
    assert await run_digests(runtime) == 1  # and the next morning, the next one


async def test_a_restart_across_seven_sends_it_late_once(
    runtime: Runtime, clock: FakeClock
) -> None:
    await enrolled_at(runtime, clock, ENROLLED, "An")
    clock.now = WEDNESDAY_0700 - timedelta(hours=1)
    await run_digests(runtime)  # the last run before the bot went down at 06:00
    clock.now = WEDNESDAY_0700 + timedelta(hours=2, minutes=30)  # back at 09:30
    assert await run_digests(runtime) == 1
    assert await run_digests(runtime) == 0
    (digest,) = await digests_for(runtime, "An")
    assert says(digest.text, "digest.late", when="25/11 07:00")
    assert await claims(runtime) == [("daily", "2026-11-25", "late")]


async def test_digests_older_than_the_catch_up_window_are_recorded_skipped(
    runtime: Runtime, clock: FakeClock
) -> None:
    await enrolled_at(runtime, clock, WEDNESDAY_0700 - timedelta(days=4), "An")
    clock.now = WEDNESDAY_0700 + timedelta(hours=3)  # down since four days ago
    assert await run_digests(runtime) == 2  # yesterday's (27 h ago) and today's, both late
    assert await claims(runtime) == [
        ("daily", "2026-11-22", "skipped"),
        ("daily", "2026-11-23", "skipped"),
        ("daily", "2026-11-24", "late"),
        ("daily", "2026-11-25", "late"),
        ("weekly", "2026-11-23", "skipped"),
    ]
    assert len(await digests_for(runtime, "An")) == 2


async def test_the_weekly_summary_comes_on_monday(runtime: Runtime, clock: FakeClock) -> None:
    await enrolled_at(runtime, clock, MONDAY_0700 - timedelta(hours=23), "An")
    await seed_tip(runtime, at=MONDAY_0700 - timedelta(days=5))
    await seed_tip(runtime, at=MONDAY_0700 - timedelta(hours=5))
    clock.now = MONDAY_0700
    assert await run_digests(runtime) == 2
    daily, weekly = await digests_for(runtime, "An")
    assert says(daily.text, "digest.new", count=1)
    assert weekly.text.startswith(
        vi("digest.head.weekly", scope="Xã An Thủy", start="16/11 07:00", end="23/11 07:00")
    )
    assert says(weekly.text, "digest.new", count=2)
    assert weekly.options[-1].data == "o:pts:week"
    clock.now = MONDAY_0700 + timedelta(days=1)
    assert await run_digests(runtime) == 1  # Tuesday: the daily one only


async def test_weekly_summary_can_be_switched_off(runtime: Runtime, clock: FakeClock) -> None:
    runtime.limits = replace(runtime.limits, weekly_digest=False)
    await enrolled_at(runtime, clock, MONDAY_0700 - timedelta(hours=23), "An")
    clock.now = MONDAY_0700
    assert await run_digests(runtime) == 1
    assert [kind for kind, _, _ in await claims(runtime)] == ["daily"]


async def test_own_time_off_switch_and_digest_now(runtime: Runtime, clock: FakeClock) -> None:
    early = await enrolled_at(runtime, clock, ENROLLED, "Early")
    await officer(runtime, "Default", "an-thuy")
    await early.send("/digest time 25:00")
    assert early.shows("digest.bad_time", value="25:00")
    await early.send("/digest time 6h30")
    assert early.shows("digest.time_set", time="06:30")
    await early.send("/digest")
    assert early.shows("digest.settings", state=vi("digest.state.on"), time="06:30", default="")
    clock.now = WEDNESDAY_0700 - timedelta(minutes=30)
    assert await run_digests(runtime) == 1
    assert len(await digests_for(runtime, "Early")) == 1
    assert await digests_for(runtime, "Default") == []
    clock.now = WEDNESDAY_0700
    assert await run_digests(runtime) == 1
    assert len(await digests_for(runtime, "Default")) == 1
    await early.press("Tắt bản tin")
    assert early.shows("digest.off_done")
    clock.now = WEDNESDAY_0700 + timedelta(days=1)
    assert await run_digests(runtime) == 1  # Default's only
    assert ("daily", "2026-11-26", "off") in await claims(runtime)
    await early.send("/digest on")
    await early.send("/digest now")
    (now,) = early.last
    assert says(now.text, "digest.head.now", scope="Xã An Thủy") and now.chart is not None
    assert len(await digests_for(runtime, "Early")) == 1  # on demand: not queued, not claimed
    clock.advance(days=1)
    assert await run_digests(runtime) == 2  # switched back on: both get the next one


async def test_a_commune_officer_sees_only_their_commune(
    runtime: Runtime, clock: FakeClock
) -> None:
    clock.now = ENROLLED
    await officer(runtime, "Commune", "an-thuy")
    await officer(runtime, "District", None)
    hour_ago = WEDNESDAY_0700 - timedelta(hours=1)
    mine = await seed_tip(runtime, at=hour_ago, urgent=True, description="Ở An Thủy")
    other = await seed_tip(runtime, at=hour_ago, area="kien-giang", urgent=True)
    secret = await seed_tip(runtime, at=hour_ago, urgent=True, top_only=True)
    clock.now = WEDNESDAY_0700
    await run_digests(runtime)
    (commune,) = await digests_for(runtime, "Commune")
    (district,) = await digests_for(runtime, "District")
    assert says(commune.text, "digest.new", count=1) and says(district.text, "digest.new", count=3)
    shown = {c: c[:4] + "-" + c[4:] for c in (mine, other, secret)}
    assert shown[mine] in commune.text
    assert shown[other] not in commune.text and shown[secret] not in commune.text
    assert all(code in district.text for code in shown.values())
    communes = {"level": "xã, thị trấn"}  # the packaged map's name for the level below
    assert says(district.text, "digest.by_area", **communes)
    assert not says(commune.text, "digest.by_area", **communes)
    assert commune.chart is not None and district.chart is not None
    assert sum(sum(values) for _, values in commune.chart.series) == 0  # today is not charted


async def test_digest_numbers_match_the_rows(runtime: Runtime, clock: FakeClock) -> None:
    rng = random.Random(5)
    areas, categories = ["an-thuy", "kien-giang", "cam-thuy"], ["drugs", "theft", "gambling"]
    statuses = [TipStatus.RECEIVED, TipStatus.VERIFYING, TipStatus.HANDLED]
    for _ in range(240):
        await seed_tip(
            runtime,
            at=WEDNESDAY_0700 - timedelta(minutes=rng.randrange(20 * 24 * 60)),
            area=rng.choice(areas),
            category=rng.choice(categories),
            top_only=rng.random() < 0.1,
            status=rng.choice(statuses),
        )
    clock.now = WEDNESDAY_0700
    ctx = runtime.context()
    window = Window(WEDNESDAY_0700 - timedelta(days=1), WEDNESDAY_0700)
    async with runtime.db.transaction() as db:
        tips = list(await db.scalars(select(Tip)))
        facts = MorningFacts(db, ctx)
        for unit in (None, "kien-giang"):
            numbers = await facts.numbers(unit, window, admin=False)
            scope = Scope(ctx.catalog.under(unit))
            seen = [t for t in tips if scope.admits(t)]
            in_window = [t for t in seen if window.start <= t.created_at < window.end]
            before = [t for t in seen if window.before.start <= t.created_at < window.start]
            assert (numbers.new, numbers.new_before) == (len(in_window), len(before))
            assert {code: n for code, n, _ in numbers.by_category if n} == Counter(
                t.category for t in in_window
            )
            assert {code: n for code, n, _ in numbers.by_area if n} == Counter(
                t.area for t in in_window
            )
            open_tips = [t for t in seen if t.status is not TipStatus.HANDLED]
            assert numbers.open_total == len(open_tips)
            overdue_before = ctx.now - timedelta(hours=ctx.limits.overdue_hours)
            assert numbers.overdue == sum(1 for t in open_tips if t.status_at < overdue_before)
            assert numbers.open_by_age.get(7, 0) == sum(
                1 for t in open_tips if t.created_at < ctx.now - timedelta(days=7)
            )
            chart = chart_window_for(ctx, window.end)
            charted = [t for t in seen if chart.start <= t.created_at < chart.end]
            assert sum(sum(days) for days in numbers.chart.values()) == len(charted)
            day_one = chart.start.astimezone(ctx.timezone).date()
            assert sum(days[0] for days in numbers.chart.values()) == sum(
                1 for t in charted if t.created_at.astimezone(ctx.timezone).date() == day_one
            )


async def test_the_chart_is_a_phone_sized_png(runtime: Runtime, clock: FakeClock) -> None:
    await enrolled_at(runtime, clock, ENROLLED, "An")
    for day in range(1, 15):
        for category in ("drugs", "theft", "gambling")[: day % 3 + 1]:
            await seed_tip(runtime, at=WEDNESDAY_0700 - timedelta(days=day), category=category)
    clock.now = WEDNESDAY_0700
    await run_digests(runtime)
    (digest,) = await digests_for(runtime, "An")
    assert digest.chart is not None
    assert digest.chart.labels[0] == "11/11" and digest.chart.labels[-1] == "24/11"
    png = render_chart(digest.chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 10_000 < len(png) < 300_000
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len([c for c in colours if c[0] > 2000]) > 4  # bars in several colours


class FlakySender:
    """A channel whose calls fail as scripted and record what went out."""

    name = "console"

    def __init__(self, failures: list[DeliveryError | None]) -> None:
        self.failures = failures
        self.sent: list[str] = []

    def parts(self, chat: str, reply: Reply) -> list[Part]:
        def part(what: str) -> Part:
            async def call() -> None:
                failure = self.failures.pop(0) if self.failures else None
                if failure is not None:
                    raise failure
                self.sent.append(what)

            return call

        return [part("chart"), part("text")]


async def test_a_failed_delivery_is_retried_without_repeating_what_went_out(
    runtime: Runtime, clock: FakeClock
) -> None:
    await enrolled_at(runtime, clock, ENROLLED, "An")
    clock.now = WEDNESDAY_0700
    await run_digests(runtime)
    sender = FlakySender([None, DeliveryError("network")])
    outbox = OutboxSender(runtime, {"console": sender}, pacers={"console": Pacer(1000, 0)})
    await outbox.run_once()
    assert sender.sent == ["chart"]
    clock.advance(seconds=20)
    await outbox.run_once()
    assert sender.sent == ["chart", "text"]  # the chart is not sent twice
    clock.advance(hours=1)
    assert await outbox.run_once() == 0
    async with runtime.db.transaction() as db:
        (row,) = await db.scalars(select(Outbox).where(Outbox.officer_id.is_not(None)))
    assert row.state is OutboxState.SENT and row.attempts == 2


async def test_a_blocked_officer_is_named_in_the_admins_next_digest(
    runtime: Runtime, clock: FakeClock
) -> None:
    clock.now = ENROLLED
    blocked = await officer(runtime, "Blocked", "an-thuy")
    await officer(runtime, "Chief", None, admin=True)
    await officer(runtime, "Colleague", "an-thuy")
    clock.now = WEDNESDAY_0700
    await run_digests(runtime)
    failures: list[DeliveryError | None] = [
        DeliveryError("blocked by the user", permanent=True),
        *[None] * 4,
    ]
    await OutboxSender(
        runtime, {"console": FlakySender(failures)}, pacers={"console": Pacer(1000, 0)}
    ).run_once()
    clock.advance(days=1)
    await run_digests(runtime)
    chief, colleague = await digests_for(runtime, "Chief"), await digests_for(runtime, "Colleague")
    assert says(chief[-1].text, "digest.unreachable")
    blocked_line = {"name": "Blocked", "reason": vi("digest.reason.blocked")}
    assert says(chief[-1].text, "digest.unreachable.line", **blocked_line)
    assert "Blocked" not in colleague[-1].text  # only admins are told
    await blocked.send("/digest")  # they unblocked the bot and wrote again
    clock.advance(days=1)
    await run_digests(runtime)
    assert "Blocked" not in (await digests_for(runtime, "Chief"))[-1].text


async def test_a_digest_names_no_tipster_and_quotes_only_an_excerpt(
    runtime: Runtime, clock: FakeClock, person: Person
) -> None:
    await enrolled_at(runtime, clock, ENROLLED, "An")
    long_text = "Bắt đầu " + "rất dài " * 40 + "KẾT-THÚC-BÍ-MẬT"
    await seed_tip(
        runtime, at=WEDNESDAY_0700 - timedelta(hours=2), urgent=True, description=long_text
    )
    clock.now = WEDNESDAY_0700
    await run_digests(runtime)
    async with runtime.db.transaction() as db:
        payloads = [row.payload for row in await db.scalars(select(Outbox))]
    raw = repr(payloads)
    assert "Bắt đầu rất dài" in raw and "KẾT-THÚC-BÍ-MẬT" not in raw
    digest = payloads[-1]["text"]
    start = digest.index("Bắt đầu")
    quoted = digest[start : digest.index("…", start) + 1]  # the excerpt, cut short
    assert len(quoted) <= 120 and says(digest, "digest.urgent.line", excerpt=quoted)
    assert person.user not in raw and person.chat not in raw


async def test_two_processes_on_one_database_give_each_officer_one_digest(
    runtime: Runtime, clock: FakeClock, database: Database
) -> None:
    clock.now = ENROLLED
    for n in range(12):
        await officer(runtime, f"O{n}", "an-thuy" if n % 2 else None)
    clock.now = WEDNESDAY_0700
    other = Database(database.url)  # a second process's own engine and connections
    try:
        second = replace(runtime, db=other, outbox_ready=asyncio.Event())
        queued = await asyncio.gather(run_digests(runtime), run_digests(second))
    finally:
        await other.dispose()
    assert sum(queued) == 12
    async with runtime.db.transaction() as db:
        rows = list(await db.scalars(select(DigestClaim)))
        outbox = list(await db.scalars(select(Outbox).where(Outbox.officer_id.is_not(None))))
    assert len(rows) == 12 and len({r.officer_id for r in rows}) == 12
    assert len(outbox) == 12


ONE_RUN = """
import asyncio, sys, time
from datetime import datetime
from bot.cli import build_runtime
from bot.scheduler import run_digests
from bot.settings import load_settings

async def main() -> None:
    settings = load_settings()
    runtime = build_runtime(settings)
    fixed = datetime.fromisoformat(sys.argv[1])
    runtime.clock = lambda: fixed
    while time.time() < float(sys.argv[2]):  # both processes start their run together
        await asyncio.sleep(0.002)
    print(await run_digests(runtime))
    await runtime.db.dispose()

asyncio.run(main())
"""


async def test_two_real_processes_give_each_officer_one_digest(
    runtime: Runtime, clock: FakeClock, db_url: str
) -> None:
    clock.now = ENROLLED
    for n in range(30):
        await officer(runtime, f"P{n}", "an-thuy" if n % 2 else None)
    env = {**os.environ, "TIPLINE_DATABASE_URL": db_url, "TIPLINE_SECRET_KEY": SECRET}
    start_at = str(time.time() + 4)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            ONE_RUN,
            WEDNESDAY_0700.isoformat(),
            start_at,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert sum(int(out.split()[-1]) for out, _ in outputs) == 30
    async with runtime.db.transaction() as db:
        rows = list(await db.scalars(select(DigestClaim)))
        outbox = list(await db.scalars(select(Outbox).where(Outbox.officer_id.is_not(None))))
    assert len(rows) == len({r.officer_id for r in rows}) == 30
    assert len(outbox) == 30
