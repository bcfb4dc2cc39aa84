"""The desk's overview on a crafted week of a made-up province: every number a chief reads
(tips per unit and status, per day and category, response times, overdue tips, patrols, pins)
checked against a hand count, for a province, a cluster and a commune officer; and the page
itself: its audit row, its language, nothing fetched from elsewhere unless tiles are set."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.settings import SettingsError, load_settings
from handlers.common.catalog import BoundingBox
from handlers.triage.overview import Overview, overview_page
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import AuditLog, Officer, Tip, TipEvent, TipStatus
from storage.officers import set_officer
from storage.overview import response_spreads
from storage.patrols import add_group, add_member, add_missed, add_shift, replace_slots
from storage.tips import NewTip, Scope, add_tip, add_tip_event, get_tip_by_id, set_tip_flags
from tests.conftest import FakeClock
from tests.test_desk import Browser, desk_server, signed_in
from tests.test_map import catalog_from, province_map
from tests.test_officers import officer

# The fake clock's moment: Wednesday 25/11/2026 08:30 in Vietnam. The week is 19/11-25/11.
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Planted:
    """A tip of the dataset: where, what, when filed, and what officers did with it."""

    name: str
    area: str
    category: str
    filed: datetime
    pin: tuple[float, float] | None = None
    top_only: bool = False
    urgent: bool = False


# Filed in UTC; each one's story is in `_act` below.
TIPS = (
    Planted("B1", "ben-do", "drugs", datetime(2026, 11, 19, 2, 0, tzinfo=UTC), (16.9, 106.1)),
    Planted("B2", "ben-do", "theft", datetime(2026, 11, 20, 3, 0, tzinfo=UTC), (16.91, 106.11)),
    Planted("B3", "ben-do", "drugs", datetime(2026, 11, 20, 4, 0, tzinfo=UTC), (16.9, 106.1)),
    Planted("B4", "ben-do", "drugs", datetime(2026, 11, 21, 5, 0, tzinfo=UTC)),
    Planted("B5", "ben-do", "theft", datetime(2026, 11, 24, 6, 0, tzinfo=UTC), (16.52, 106.52)),
    Planted("B6", "ben-do", "drugs", datetime(2026, 11, 24, 20, 0, tzinfo=UTC), (18.0, 106.0)),
    Planted(
        "D1",
        "dong-lua",
        "drugs",
        datetime(2026, 11, 19, 10, 0, tzinfo=UTC),
        (16.2, 106.8),
        urgent=True,
    ),
    Planted("D2", "dong-lua", "theft", datetime(2026, 11, 22, 0, 30, tzinfo=UTC)),
    Planted(
        "T1",
        "ben-do",
        "drugs",
        datetime(2026, 11, 21, 1, 0, tzinfo=UTC),
        (16.9, 106.1),
        top_only=True,
    ),
    Planted("H1", "hoa-mai", "drugs", datetime(2026, 11, 23, 3, 0, tzinfo=UTC), (16.3, 106.3)),
    Planted("O1", "ben-do", "theft", datetime(2026, 11, 10, 3, 0, tzinfo=UTC)),  # before the week
)


@pytest.fixture
def province(runtime: Runtime, tmp_path: Path) -> Runtime:
    """The made-up province (two clusters of two communes each), on the test's clock."""
    runtime.catalog = catalog_from(tmp_path, province_map())
    return runtime


async def officer_row(runtime: Runtime, name: str) -> Officer:
    async with runtime.db.transaction() as db:
        found = await db.scalar(select(Officer).where(Officer.name == name))
    assert found is not None
    return found


async def plant(runtime: Runtime, clock: FakeClock) -> dict[str, int]:
    """The crafted week: tips with their actions, and a patrol group's shifts. Returns the
    tips' ids by name."""
    await officer(runtime, "Tỉnh", None)
    actor = (await officer_row(runtime, "Tỉnh")).id
    ids = {}
    async with runtime.db.transaction() as db:
        for n, planted in enumerate(TIPS):
            new = NewTip(
                code=f"TEST{n:04d}",
                category=planted.category,
                area=planted.area,
                place=None,
                latitude=planted.pin[0] if planted.pin else None,
                longitude=planted.pin[1] if planted.pin else None,
                description=f"Tin {planted.name}",
                occurred="today",
                urgent=planted.urgent,
                language="vi",
                passphrase_hash="x",
                attachments=(),
                top_only=planted.top_only,
                channel="console",
            )
            tip = await add_tip(db, new, now=planted.filed)
            ids[planted.name] = tip.id
        for planted in TIPS:
            await _act(db, ids[planted.name], planted, actor)
        await _patrols(db)
    clock.now = NOW
    return ids


async def _act(db: AsyncSession, tip_id: int, planted: Planted, actor: int) -> None:
    """What officers did: first actions after 10, 20, 30, 40, 100 minutes in Bến Đò (the
    first one a spam closing undone a minute later), 60 (taken on) and 120 in Đồng Lúa;
    closings after 2 h and 5 h in Bến Đò, 26 h in Đồng Lúa."""
    tip = await get_tip_by_id(db, tip_id)
    assert tip is not None
    at = planted.filed

    async def event(after: timedelta, **fields: Any) -> None:
        await add_tip_event(db, tip, now=at + after, officer_id=actor, **fields)

    match planted.name:
        case "B1":
            await event(10 * MIN, status=TipStatus.CLOSED_SPAM)
            await event(11 * MIN, status=TipStatus.RECEIVED, status_since=at)  # the undo
        case "B2":
            await event(20 * MIN, status=TipStatus.VERIFYING)
            await event(2 * HOUR, status=TipStatus.CLOSED_UNFOUNDED, note="không có")
        case "B3":
            await event(30 * MIN, note="đã xem")
            await event(5 * HOUR, status=TipStatus.CLOSED_DUPLICATE)
        case "B4":
            await event(40 * MIN, status=TipStatus.VERIFYING)
        case "B5":
            await event(100 * MIN, status=TipStatus.HANDLED)
        case "D1":
            await set_tip_flags(db, tip, acknowledged_at=at + 60 * MIN, acknowledged_by_id=actor)
            await event(90 * MIN, status=TipStatus.VERIFYING)
        case "D2":
            await event(120 * MIN, status=TipStatus.VERIFYING)
            await event(26 * HOUR, status=TipStatus.CLOSED_SPAM)
        case "T1":
            await event(5 * MIN, status=TipStatus.VERIFYING)
            await event(HOUR, status=TipStatus.CLOSED_UNFOUNDED)


async def _patrols(db: AsyncSession) -> None:
    """A Bến Đò group out every evening 21:00-23:30: of the week's six evenings begun, four
    done (one late), one missed, one with nobody and no alert yet; a Hoa Mai group apart."""
    month_ago = NOW - timedelta(days=30)
    group = await add_group(
        db, name="Tổ Bến Đò", area="ben-do", officer_id=None, join_hash="h1", now=month_ago
    )
    elsewhere = await add_group(
        db, name="Tổ Hoa Mai", area="hoa-mai", officer_id=None, join_hash="h2", now=month_ago
    )
    for each in (group, elsewhere):
        await replace_slots(db, each.id, [(day, "21:00", "23:30") for day in range(7)])
    member = await add_member(db, group_id=group.id, channel="telegram", chat="m1", now=month_ago)
    for day, late in ((19, False), (20, False), (21, True), (22, False)):
        start = datetime(2026, 11, day, 14, 0, tzinfo=UTC)  # 21:00 in Vietnam
        began = start + (45 * MIN if late else 5 * MIN)
        await add_shift(
            db,
            group_id=group.id,
            member_id=member.id,
            now=began,
            planned=(start, start + 150 * MIN),
            late=late,
        )
    missed = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    await add_missed(db, group_id=group.id, planned=(missed, missed + 150 * MIN), now=missed)


async def overview_of(runtime: Runtime, name: str, days: int = 7) -> Overview:
    found = await officer_row(runtime, name)
    async with runtime.db.transaction() as db:
        return await overview_page(db, runtime.context(), found, days)


def minutes(seconds: float | None) -> float:
    assert seconds is not None
    return round(seconds / 60, 6)


async def test_a_cluster_officer_reads_every_number_of_the_week(
    province: Runtime, clock: FakeClock
) -> None:
    ids = await plant(province, clock)
    await officer(province, "Cụm", "cum-bac")
    page = await overview_of(province, "Cụm")
    # Tips filed in the week by unit and the status they stand at now (STATUSES' order:
    # received, verifying, handled, closed unfounded, duplicate, spam); T1 is the top unit's.
    assert [(u.name, u.counts) for u in page.units] == [
        ("Phường Bến Đò", (2, 1, 1, 1, 1, 0)),
        ("Xã Đồng Lúa", (0, 1, 0, 0, 0, 1)),
    ]
    assert page.totals.counts == (2, 2, 1, 1, 1, 1) and page.totals.total == 8
    # Per local day, by category, busiest first (drugs 5, theft 3).
    assert page.chart.labels == ("19/11", "20/11", "21/11", "22/11", "23/11", "24/11", "25/11")
    assert page.chart.series == (
        ("Ma túy", (2, 1, 1, 0, 0, 0, 1)),
        ("Trộm cắp", (0, 1, 0, 1, 0, 1, 0)),
    )
    # Response times, by hand (linear interpolation between closest ranks):
    # Bến Đò's first actions 10 20 30 40 100 min: median x[2] = 30; p90 at h = 3.6: 40 + .6·60.
    # Đồng Lúa's 60 (taken on before its 90-minute status) and 120: 90; 60 + .9·60 = 114.
    # Together 10 20 30 40 60 100 120: x[3] = 40; h = 5.4: 100 + .4·20 = 108.
    # Closings 2 h and 5 h: 3.5 h; 2 + .9·3 = 4.7 h. 26 h alone. Together 2 5 26: 5 h; h = 1.8:
    # 5 + .8·21 = 21.8 h. B1's spam closing, undone, is no closing.
    timings = {
        r.name: (
            r.action.count,
            minutes(r.action.median),
            minutes(r.action.p90),
            r.closing.count,
            minutes(r.closing.median),
            minutes(r.closing.p90),
        )
        for r in page.responses
    }
    assert timings == {
        "Phường Bến Đò": (5, 30, 76, 2, 210, 282),
        "Xã Đồng Lúa": (2, 90, 114, 1, 1560, 1560),
        "Tất cả": (7, 40, 108, 3, 300, 1308),
    }
    assert [r.action.median_said for r in page.responses] == ["30 phút", "1 giờ 30 phút", "40 phút"]
    assert page.responses[2].closing.p90_said == "21 giờ 48 phút"
    # Overdue: open, no status change for 72 hours, the longest waiting first (O1 is older
    # than the week and still counts; B6 is too young; H1 is another cluster's).
    order = [ids[n] for n in ("O1", "B1", "D1", "B4")]
    assert [line.tip_id for line in page.overdue] == order and page.overdue_total == 4
    # Patrols of the week (19-25/11; tonight's shift has not begun).
    assert [(p.name, p.planned, p.done, p.missed, p.late) for p in page.patrols] == [
        ("Tổ Bến Đò", 6, 4, 1, 1)
    ]
    # Pins in cells of 1/16 degree of the province's box: three together in Bến Đò, two
    # alone; B4 and D2 have none, B6's lies outside the map.
    assert page.pins is not None
    assert [(c.row, c.column, c.count) for c in page.pins.clusters] == [
        (1, 1, 3),
        (7, 8, 1),
        (12, 12, 1),
    ]
    assert (page.pins.unpinned, page.pins.outside) == (2, 1)
    assert page.pins.clusters[0].latitude == pytest.approx((16.9 + 16.91 + 16.9) / 3)


async def test_a_commune_officer_sees_the_commune_alone_and_the_province_sees_everything(
    province: Runtime, clock: FakeClock
) -> None:
    ids = await plant(province, clock)
    await officer(province, "Xã", "ben-do")
    page = await overview_of(province, "Xã")
    assert [(u.name, u.total) for u in page.units] == [("Phường Bến Đò", 6)]
    assert [line.tip_id for line in page.overdue] == [ids["O1"], ids["B1"], ids["B4"]]
    assert (page.responses[-1].action.count, page.responses[-1].closing.count) == (5, 2)
    assert page.pins is not None and [c.count for c in page.pins.clusters] == [3, 1]
    assert sum(sum(values) for _, values in page.chart.series) == 6
    # The province's officer sees the top unit's tip (T1) and the other cluster's.
    whole = await overview_of(province, "Tỉnh")
    assert [(u.name, u.total) for u in whole.units] == [("Cụm Bắc", 9), ("Cụm Nam", 1)]
    assert whole.responses[-1].action.count == 8  # T1 taken up after 5 minutes
    assert minutes(whole.responses[-1].action.median) == 35  # 5 10 20 30 | 40 ...: 30 + .5·10
    assert whole.pins is not None
    assert [(c.row, c.column, c.count) for c in whole.pins.clusters] == [
        (1, 1, 4),
        (7, 8, 1),
        (11, 4, 1),
        (12, 12, 1),
    ]
    assert [p.name for p in whole.patrols] == ["Tổ Bến Đò", "Tổ Hoa Mai"]
    # Thirty days take O1 in.
    month = await overview_of(province, "Xã", days=30)
    assert month.units[0].total == 7 and len(month.chart.labels) == 30


async def test_the_percentiles_are_postgresqls_percentile_cont(
    province: Runtime, clock: FakeClock
) -> None:
    """Our ranks-and-interpolation definition agrees with percentile_cont over the same
    durations (on PostgreSQL, which has it), and with the hand count on both engines."""
    await plant(province, clock)
    start, end = NOW - timedelta(days=7), NOW
    halves = (Fraction(1, 2), Fraction(9, 10), Fraction(1, 4))
    async with province.db.transaction() as db:
        spreads = await response_spreads(
            db, Scope(frozenset({"ben-do", "dong-lua"})), {}, start=start, end=end, fractions=halves
        )
        ours = spreads["", "action"].percentiles
        assert [minutes(ours[p]) for p in halves] == [40, 108, 25]
        if db.get_bind().dialect.name == "postgresql":
            durations = (
                "SELECT extract(epoch FROM"
                " least(t.acknowledged_at, min(e.created_at)) - t.created_at) AS d"
                " FROM tip t JOIN tip_event e ON e.tip_id = t.id AND e.officer_id IS NOT NULL"
                " WHERE t.created_at >= :start AND t.created_at < :end AND NOT t.top_only"
                " AND t.area IN ('ben-do', 'dong-lua') GROUP BY t.id"
            )
            theirs = await db.execute(
                text(
                    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d),"
                    " percentile_cont(0.9) WITHIN GROUP (ORDER BY d),"
                    f" percentile_cont(0.25) WITHIN GROUP (ORDER BY d) FROM ({durations}) x"
                ),
                {"start": start, "end": end},
            )
            assert [pytest.approx(v) for v in theirs.one()] == [ours[p] for p in halves]


@pytest.fixture
async def browser(province: Runtime) -> AsyncIterator[Browser]:
    """A browser at the province's desk."""
    async with desk_server(province) as server:
        opened = Browser(server)
        yield opened
        await opened.close()


def outside_urls(page: str) -> list[str]:
    """Every absolute address a page names."""
    return re.findall(r"https?://[^\s\"'<>]+", page)


async def test_the_page_draws_the_chart_and_map_fetching_nothing_from_outside(
    province: Runtime, clock: FakeClock, browser: Browser
) -> None:
    ids = await plant(province, clock)
    await signed_in(browser, await officer(province, "Cụm", "cum-bac"))
    page = await browser.get("/desk/overview")
    assert browser.status == 200
    assert outside_urls(page) == [] and "<image" not in page
    assert "img-src 'self' data:;" in browser.headers["Content-Security-Policy"]
    assert "style=" not in page and "<script>" not in page
    # The chart: a bar a day, its title for screen readers, the numbers as a table too.
    assert page.count('<g class="bar">') == 7 and '<title id="chart-title">' in page
    assert 'fill="#0072B2"' in page and 'id="per-day-table"' in page
    # The map: its clusters with their counts, the tips it could not draw.
    spots = re.findall(r'<g class="spot( cluster)?" data-count="(\d+)">', page)
    assert sorted(int(count) for _, count in spots) == [1, 1, 3]
    assert ">3</text>" in page
    assert "Không vẽ: 2 tin không có ghim, 1 tin ghim ngoài bản đồ." in page
    # The tables and the overdue list, with links to the tips.
    assert "<td>6</td>" in page and f'href="/desk/tip/{ids["O1"]}"' in page
    assert "Tổ Bến Đò" in page and "40 phút" in page
    # A week, a month, a quarter; anything else is a week.
    await browser.get("/desk/overview?days=30")
    assert page_days(browser.body) == 30
    await browser.get("/desk/overview?days=1000")
    assert page_days(browser.body) == 7
    async with province.db.transaction() as db:
        rows = list(await db.scalars(select(AuditLog).where(AuditLog.action == "desk_overview")))
    assert [row.detail for row in rows] == ["days=7", "days=30", "days=7"]
    assert {row.officer_id for row in rows} == {(await officer_row(province, "Cụm")).id}
    # The tip's page draws its pin on a small map of its area.
    tip_page = await browser.get(f"/desk/tip/{ids['B1']}")
    assert 'class="map"' in tip_page and tip_page.count('data-count="1"') == 1
    assert outside_urls(tip_page) == []


def page_days(page: str) -> int:
    found = re.search(r'href="/desk/overview\?days=(\d+)" aria-current="page"', page)
    assert found is not None
    return int(found.group(1))


async def test_an_english_reader_and_an_operators_tiles(
    province: Runtime, clock: FakeClock
) -> None:
    await plant(province, clock)
    tiles = "https://tile.example.org/{z}/{x}/{y}.png"
    async with desk_server(province, tiles_url=tiles) as server:
        browser = Browser(server)
        await signed_in(browser, await officer(province, "Cụm", "cum-bac"))
        async with province.db.transaction() as db:
            chief = await db.scalar(select(Officer).where(Officer.name == "Cụm"))
            assert chief is not None
            await set_officer(db, chief, language="en")
        page = await browser.get("/desk/overview")
        assert "Tips by unit and status" in page and "40 min" in page
        policy = browser.headers["Content-Security-Policy"]
        assert "img-src 'self' data: https://tile.example.org;" in policy
        images = re.findall(r'<image href="([^"]+)"', page)
        assert images and all(i.startswith("https://tile.example.org/") for i in images)
        assert {u.split("/")[2] for u in outside_urls(page)} == {"tile.example.org"}
        await browser.close()


def test_a_unit_may_carry_its_own_box_and_the_others_take_the_nearest_above(
    tmp_path: Path,
) -> None:
    document = province_map()
    document["unit"]["units"][0]["units"][0]["bbox"] = {
        "south": 16.8,
        "west": 106.0,
        "north": 17.0,
        "east": 106.2,
    }
    catalog = catalog_from(tmp_path, document)
    whole = BoundingBox(16.0, 106.0, 17.0, 107.0)
    assert catalog.box_of("ben-do") == BoundingBox(16.8, 106.0, 17.0, 106.2)
    assert catalog.box_of("dong-lua") == catalog.box_of(None) == whole


def test_a_tiles_address_names_one_host_and_the_three_numbers() -> None:
    good = "https://tile.example.org/{z}/{x}/{y}.png"
    assert load_settings(_env_file=None, desk_tiles_url=good).desk_tiles_url == good
    for bad in (
        "https://{s}.tile.example.org/{z}/{x}/{y}.png",
        "ftp://t/{z}/{x}/{y}",
        "https://t/a.png",
    ):
        with pytest.raises(SettingsError, match="TIPLINE_DESK_TILES_URL"):
            load_settings(_env_file=None, desk_tiles_url=bad)


async def test_tips_stored_before_their_first_action_was_kept_get_it(
    database: Database, clock: FakeClock
) -> None:
    """Old rows take the earlier of their acknowledgement and their first officer history
    row (the bot's "received" row is no action); the revision goes down and up again."""
    await downgrade(database, "0021")
    now = clock()
    acks = {"none": None, "ack": 30 * MIN, "ack first": 5 * MIN, "event first": 50 * MIN}
    events = {"none": [], "ack": [], "ack first": [20 * MIN], "event first": [40 * MIN, 9 * MIN]}
    async with database.transaction() as db:
        actor = await db.scalar(
            insert(Officer).values(name="Cũ", language="vi", created_at=now).returning(Officer.id)
        )
        tips: dict[str, int] = {}
        for n, name in enumerate(acks):
            ack = acks[name]
            made = await db.scalar(
                insert(Tip)
                .values(
                    code=f"OLD{n:05d}",
                    category="drugs",
                    area="ben-do",
                    description="cũ",
                    occurred="today",
                    urgent=False,
                    language="vi",
                    passphrase_hash="x",
                    failed_checks=0,
                    status=TipStatus.VERIFYING,
                    status_at=now,
                    top_only=False,
                    created_at=now,
                    acknowledged_at=None if ack is None else now + ack,
                )
                .returning(Tip.id)
            )
            tips[name] = int(made or 0)
            for by, after in [(None, 0 * MIN)] + [(actor, after) for after in events[name]]:
                await db.execute(
                    insert(TipEvent).values(tip_id=made, officer_id=by, created_at=now + after)
                )
    await upgrade(database)
    async with database.transaction() as db:
        kept = dict((await db.execute(select(Tip.id, Tip.first_action_at))).tuples().all())
    assert {name: kept[tips[name]] for name in tips} == {
        "none": None,
        "ack": now + 30 * MIN,
        "ack first": now + 5 * MIN,
        "event first": now + 9 * MIN,
    }
