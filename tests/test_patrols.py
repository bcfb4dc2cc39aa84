"""People's patrols through the real unit of work: joining, shifts, missed and late, coverage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.runtime import Runtime
from bot.scheduler import run_patrol_check
from handlers.common.schedule import parse_schedule, planned_between, planned_for
from handlers.common.types import Reply
from storage.models import MissedPatrol, Outbox, PatrolPoint, Shift
from tests.conftest import FakeClock, Person
from tests.messages import filled, forms, says
from tests.test_officers import officer

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Vietnamese time, as the UTC the clock keeps."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


# --- plans ---


def test_schedules_parse_in_english_and_vietnamese() -> None:
    every_night = parse_schedule("Mon-Sun 21:00-23:30")
    assert every_night is not None and len(every_night) == 7
    mixed = parse_schedule("T2-T6 21:00-23:30, T7 20:00-2:00")
    assert mixed is not None and (5, "20:00", "02:00") in mixed and len(mixed) == 6
    assert parse_schedule("Fri-Mon 22:00-23:00") == [
        (0, "22:00", "23:00"), (4, "22:00", "23:00"), (5, "22:00", "23:00"), (6, "22:00", "23:00"),
    ]  # fmt: skip
    for bad in ("", "Funday 21:00-22:00", "Mon 25:00-26:00", "Mon 21:00-21:00", "Mon 21:00"):
        assert parse_schedule(bad) is None, bad


def test_schedules_take_times_as_digest_time_does() -> None:
    """8h15, 21h, 6.45: whatever /digest time reads (parse_clock), the plan reads too."""
    assert parse_schedule("T2 8h15-10h, T7 21.30-23H30, CN 6h-7") == [
        (0, "08:15", "10:00"), (5, "21:30", "23:30"), (6, "06:00", "07:00"),
    ]  # fmt: skip
    for bad in ("T2 8h75-10h", "T2 8h15-", "T2 8hh-9h", "T2 8:5-9h"):
        assert parse_schedule(bad) is None, bad


def test_planned_shifts_cross_midnight_and_the_week() -> None:
    slots = parse_schedule("Sun 23:00-01:00")
    assert slots is not None
    # 29 Nov 2026 is a Sunday: its shift ends on Monday 30 Nov.
    (sunday,) = planned_between(slots, ZONE, local(28, 0), local(30, 23))
    assert (sunday.start, sunday.end) == (local(29, 23), local(30, 1))
    assert planned_for(slots, ZONE, local(30, 0, 30)) == sunday  # after midnight, same shift
    assert planned_for(slots, ZONE, local(29, 22, 5)) == sunday  # within the hour before
    assert planned_for(slots, ZONE, local(29, 21, 0)) is None


# --- groups and members ---


async def group_with_members(
    runtime: Runtime, clock: FakeClock, *names: str, plan: str = "Mon-Sun 21:00-23:30"
) -> tuple[Person, list[Person], str]:
    """An officer of An Thủy with a planned group, and its joined, named members."""
    boss = await officer(runtime, "An", "an-thuy")
    await boss.send("/newpatrol Tổ 1")
    code = filled(boss.said(), "patrol.created")["code"]
    await boss.send(f"/schedule Tổ 1 | {plan}")
    assert boss.shows("schedule.set", group="Tổ 1")
    members = []
    for name in names:
        member = Person(runtime, user=f"member-{name}", chat=f"m-{name}")
        await member.send(f"/join {code}")
        await member.send(name)
        assert member.shows("join.done", name=name)
        members.append(member)
    return boss, members, code


async def test_join_valid_reused_wrong_full_and_deleted(runtime: Runtime, clock: FakeClock) -> None:
    boss, (lan,), code = await group_with_members(runtime, clock, "Lan")
    await lan.send(f"/join {code}")
    assert lan.shows("join.already", group="Tổ 1")
    stranger = Person(runtime, user="s", chat="s")
    await stranger.send("/join WRONGCOD")
    assert stranger.shows("join.bad")
    await boss.send("/newpatrol Tổ 2")
    other = filled(boss.said(), "patrol.created")["code"]
    await lan.send(f"/start pt-{other}")
    assert lan.shows("join.other", group="Tổ 1")
    async with runtime.db.transaction() as db:
        await db.execute(text("UPDATE patrol_group SET max_members = 1 WHERE name = 'Tổ 1'"))
    await stranger.send(f"/join {code}")
    assert stranger.shows("join.full", group="Tổ 1", count=1)
    async with runtime.db.transaction() as db:
        await db.execute(
            text("UPDATE patrol_group SET deleted_at = created_at WHERE name = 'Tổ 2'")
        )
    await stranger.send(f"/join {other}")
    assert stranger.shows("join.deleted")
    await stranger.send("/checkin")
    assert stranger.shows("not.member")


# --- a shift ---


async def test_a_complete_shift(runtime: Runtime, clock: FakeClock) -> None:
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    clock.now = local(25, 20, 55)
    await lan.send("/checkin")
    assert lan.last[0].request_location
    await lan.pin(17.10, 106.70)
    assert lan.shows("checkin.done", at="25/11 20:55") and not lan.shows("checkin.late")
    await lan.send("/checkin")
    assert lan.shows("checkin.already")
    await lan.press("Điểm kiểm tra")
    await lan.send("Cầu Mỹ Trạch")
    await lan.press("Điểm kiểm tra")
    await lan.pin(17.12, 106.71)
    await lan.press("Báo sự việc")
    await lan.press("Đánh nhau")
    await lan.photo("incident-photo", caption="Hai nhóm thanh niên <b>xô xát</b>")
    assert lan.shows("incident.done")
    async with runtime.db.transaction() as db:
        (alert,) = [Reply.from_json(r.payload) for r in await db.scalars(select(Outbox))]
    assert says(
        alert.text,
        "incident.to_officer",
        group="Tổ 1",
        member="Lan",
        category="Đánh nhau, gây rối",
    )
    assert "<b>xô xát</b>" in alert.text  # the member's words, kept as they were written
    assert alert.media and alert.media[0].ref == "incident-photo"
    clock.advance(hours=2)
    await lan.send("/checkout")
    await lan.press("Bình thường")
    assert lan.shows("checkout.done") and lan.shows("count.checkpoints", count=2)
    await lan.send("/checkout")
    assert lan.shows("checkout.none")
    await lan.pin(17.1, 106.7)
    assert lan.shows("location.no_shift")
    async with runtime.db.transaction() as db:
        kinds = [p.kind for p in await db.scalars(select(PatrolPoint).order_by(PatrolPoint.id))]
        shift = await db.scalar(select(Shift))
    assert kinds == ["start", "checkpoint", "checkpoint", "incident"]
    assert shift is not None and shift.summary in forms("button.quiet") and not shift.late
    await boss.send("/patrol Tổ 1")
    route = boss.said()
    assert (
        "Cầu Mỹ Trạch" in route
        and "📍 17.12000, 106.71000" in route
        and says(route, "point.incident")
    )


async def test_a_photo_checkpoint_shows_its_caption(runtime: Runtime, clock: FakeClock) -> None:
    """The officer reading the route sees that a photo was taken and what its caption says."""
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    await lan.send("/checkin")
    await lan.send("Nhà văn hóa")
    await lan.press("Điểm kiểm tra")
    await lan.photo("bridge-photo", caption="Cầu Mỹ Trạch, đèn đường hỏng")
    assert lan.shows("checkpoint.done")
    await lan.press("Điểm kiểm tra")
    await lan.photo("gate-photo")  # no caption: the photo alone still marks the checkpoint
    async with runtime.db.transaction() as db:
        photos = [p.photo for p in await db.scalars(select(PatrolPoint).order_by(PatrolPoint.id))]
    assert photos == [None, "bridge-photo", "gate-photo"]
    await boss.send("/patrol Tổ 1")
    route = boss.said().splitlines()
    points = [line for line in route if line.startswith("   ")]  # a route, under its shift
    checkpoints = [line for line in points if says(line, "point.checkpoint")]
    assert checkpoints[0].endswith("📷 Cầu Mỹ Trạch, đèn đường hỏng"), checkpoints
    assert checkpoints[1].endswith("📷"), checkpoints


async def test_an_incident_keeps_its_category_and_whatever_came_before_its_words(
    runtime: Runtime, clock: FakeClock
) -> None:
    """The category picked first stays with the incident to the officer's alert and the route;
    a photo sent without a caption, and a pin, are kept while the words are asked for."""
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    await lan.send("/checkin")
    await lan.send("Chợ")
    await lan.press("Báo sự việc")
    await lan.press("Trộm cắp")
    await lan.photo("stolen-bike")
    assert lan.shows("incident.ask_text")
    await lan.pin(17.13, 106.72)
    assert lan.shows("incident.ask_text")
    await lan.send("Mất xe máy trước cổng chợ")
    assert lan.shows("incident.done")
    async with runtime.db.transaction() as db:
        point = await db.scalar(select(PatrolPoint).where(PatrolPoint.kind == "incident"))
        (alert,) = [Reply.from_json(r.payload) for r in await db.scalars(select(Outbox))]
    assert point is not None and (point.category, point.photo) == ("theft", "stolen-bike")
    assert (point.latitude, point.longitude) == (17.13, 106.72)
    assert says(alert.text, "incident.to_officer", category="Trộm cắp", member="Lan")
    assert alert.media and alert.media[0].ref == "stolen-bike"
    await boss.send("/patrol Tổ 1")
    (line,) = [ln for ln in boss.said().splitlines() if "Mất xe máy" in ln]
    assert "(Trộm cắp)" in line and "📍 17.13000, 106.72000" in line and "📷" in line


async def test_a_faraway_location_is_kept_but_flagged(runtime: Runtime, clock: FakeClock) -> None:
    _, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    await lan.send("/checkin")
    await lan.pin(21.03, 105.85)  # Hà Nội
    assert lan.shows("far.flag")
    async with runtime.db.transaction() as db:
        point = await db.scalar(select(PatrolPoint))
    assert point is not None and point.far and point.latitude == 21.03


async def test_forgotten_shift_closes_itself(runtime: Runtime, clock: FakeClock) -> None:
    _, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    clock.now = local(25, 21, 5)
    await lan.send("/checkin")
    await lan.send("Nhà văn hóa thôn")
    clock.now = local(26, 1, 29)  # planned end 23:30 + 2 h not yet passed
    assert (await run_patrol_check(runtime))["auto_closed"] == 0
    clock.now = local(26, 1, 31)
    assert (await run_patrol_check(runtime))["auto_closed"] == 1
    async with runtime.db.transaction() as db:
        shift = await db.scalar(select(Shift))
    assert shift is not None and shift.auto_closed and shift.ended_at == clock.now


# --- missed and late ---


@pytest.mark.parametrize(
    ("plan", "start"),
    [
        ("Mon-Sun 21:00-23:30", local(25, 21)),  # an evening
        ("Mon-Sun 23:45-02:00", local(25, 23, 45)),  # across midnight
        ("Sun 23:00-01:00", local(29, 23)),  # across the week's end
    ],
)
async def test_missed_then_late_with_a_moving_clock(
    runtime: Runtime, clock: FakeClock, plan: str, start: datetime
) -> None:
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan", plan=plan)
    clock.now = start + timedelta(minutes=29)
    assert (await run_patrol_check(runtime))["missed"] == 0
    clock.now = start + timedelta(minutes=31)
    assert (await run_patrol_check(runtime))["missed"] == 1
    assert (await run_patrol_check(runtime))["missed"] == 0  # raised once
    async with runtime.db.transaction() as db:
        alerts = [Reply.from_json(r.payload) for r in await db.scalars(select(Outbox))]
    assert len(alerts) == 1 and says(alerts[0].text, "missed.alert", group="Tổ 1")
    clock.now = start + timedelta(minutes=40)
    await lan.send("/checkin")
    await lan.send("Chợ")
    assert lan.shows("checkin.late")
    await boss.choose(alerts[0].options[0].data)
    await boss.send("Tổ trưởng ốm, đã bù người")
    assert boss.shows("missed.closed")
    async with runtime.db.transaction() as db:
        missed = await db.scalar(select(MissedPatrol))
        shift = await db.scalar(select(Shift))
    assert missed is not None and missed.comment == "Tổ trưởng ốm, đã bù người"
    assert shift is not None and shift.late and shift.planned_start == start
    await boss.choose(alerts[0].options[0].data)
    assert boss.shows("missed.already")


async def test_no_missed_alert_for_a_group_nobody_is_in(runtime: Runtime, clock: FakeClock) -> None:
    """A planned shift that began while the group had no members (none yet, or all gone) was
    nobody's to walk: no alert. One that began with a member in it is missed as ever."""
    _, _, code = await group_with_members(runtime, clock)
    clock.now = local(25, 21, 31)
    assert (await run_patrol_check(runtime))["missed"] == 0
    lan = Person(runtime, user="member-Lan", chat="m-Lan")
    await lan.send(f"/join {code}")  # after tonight's shift began: not hers to have missed
    await lan.send("Lan")
    assert (await run_patrol_check(runtime))["missed"] == 0
    clock.now = local(26, 21, 31)
    assert (await run_patrol_check(runtime))["missed"] == 1
    await lan.send("/leave")
    clock.now = local(27, 21, 31)
    assert (await run_patrol_check(runtime))["missed"] == 0
    async with runtime.db.transaction() as db:
        (missed,) = await db.scalars(select(MissedPatrol))
    assert missed.planned_start == local(26, 21)


async def test_an_on_time_check_in_raises_nothing(runtime: Runtime, clock: FakeClock) -> None:
    _, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    clock.now = local(25, 20, 50)
    await lan.send("/checkin")
    await lan.send("Trụ sở")
    clock.now = local(25, 22)
    assert (await run_patrol_check(runtime))["missed"] == 0


# --- officer views ---


async def test_two_members_count_once_and_numbers_match_the_rows(
    runtime: Runtime, clock: FakeClock
) -> None:
    clock.now = local(18, 12)  # the group exists since last week
    boss, (lan, minh), _ = await group_with_members(runtime, clock, "Lan", "Minh")
    clock.now = local(24, 20, 55)  # yesterday: both out together, 21:00-23:00 and 21:30-23:30
    await lan.send("/checkin")
    await lan.send("Đầu làng")
    clock.now = local(24, 21, 30)
    await minh.send("/checkin")
    await minh.send("Cuối làng")
    await minh.press("Điểm kiểm tra")
    await minh.send("Bến đò")
    clock.now = local(24, 23)
    await lan.send("/checkout")
    await lan.press("Bình thường")
    clock.now = local(24, 23, 30)
    await minh.send("/checkout")
    await minh.send("Có nhóm thanh niên tụ tập, đã nhắc nhở")
    clock.now = local(25, 22)  # tonight nobody went: missed
    await run_patrol_check(runtime)
    await boss.send("/patrols week")
    line = next(ln for ln in boss.said().splitlines() if ln.startswith("Tổ 1"))
    # Planned so far this week (19-25 Nov): 7 evenings; only the 24th was walked, and Lan
    # was there on time although Minh came after the grace period.
    assert says(line, "patrols.line", group="Tổ 1", planned=7, done=1, late=0)
    # 20:55-23:30 covered once, though two members overlapped
    assert says(line, "patrols.line", hours="2,6")  # Vietnamese decimals
    assert says(line, "count.checkpoints", count=1) and says(line, "count.incidents", count=0)
    async with runtime.db.transaction() as db:
        missed = list(await db.scalars(select(MissedPatrol)))
    # The one check ran tonight and looks back two days (from 23/11 22:00): the 24th was
    # walked, the 25th missed; earlier evenings were never checked, so never alerted.
    assert says(line, "patrols.line", missed=len(missed)) and len(missed) == 1
    assert boss.shows("patrols.open_missed", items="25/11 21:00")
    await boss.send("/patrols")
    assert boss.shows("patrols.line", group="Tổ 1", planned=1, done=0)  # today only


async def test_patrol_and_patrols_count_a_group_made_after_its_shift_began_alike(
    runtime: Runtime, clock: FakeClock
) -> None:
    """The check-in matches tonight's 21:00 shift although the group was made at 21:10: both
    views count it as planned, done and late, and an open shift counts its hours up to now."""
    clock.now = local(25, 21, 10)
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    clock.now = local(25, 21, 45)
    await lan.send("/checkin")
    await lan.send("Đầu làng")
    assert lan.shows("checkin.late")
    clock.now = local(25, 22, 45)
    counted = {"group": "Tổ 1", "planned": 1, "done": 1, "late": 1, "missed": 0, "hours": "1,0"}
    await boss.send("/patrol Tổ 1")
    assert boss.shows("patrol.late") and boss.shows("patrols.line", **counted)
    for period in ("week", "today"):
        await boss.send(f"/patrols {period}")
        assert boss.shows("patrols.line", **counted), period


async def test_a_member_reads_the_group_plan_with_schedule(
    runtime: Runtime, clock: FakeClock
) -> None:
    """/schedule alone: a member sees their group's plan and the shift under way or next; only
    officers change it; an officer reads a group's with /schedule NAME."""
    boss, (lan,), _ = await group_with_members(runtime, clock, "Lan", plan="T2-T6 21:00-23:30")
    weeknights = "T2 21:00-23:30, T3 21:00-23:30, T4 21:00-23:30, T5 21:00-23:30, T6 21:00-23:30"
    clock.now = local(25, 8, 30)  # a Wednesday morning
    await lan.send("/schedule")
    assert lan.shows("schedule.plan", group="Tổ 1", slots=weeknights)
    assert lan.shows("schedule.next", day="T4", start="25/11 21:00", end="23:30")
    clock.now = local(25, 21, 40)
    await lan.send("/schedule")
    assert lan.shows("schedule.current", day="T4", start="25/11 21:00", end="23:30")
    clock.now = local(27, 23, 45)  # Friday's shift is over: the next is on Monday
    await lan.send("/schedule")
    assert lan.shows("schedule.next", day="T2", start="30/11 21:00")
    await lan.send("/schedule Tổ 1 | T2 20:00-22:00")
    assert lan.shows("schedule.officers_only") and lan.shows("schedule.plan", slots=weeknights)
    await boss.send("/schedule Tổ 1")
    assert boss.shows("schedule.plan", group="Tổ 1", slots=weeknights)  # unchanged
    await boss.send("/schedule")
    assert boss.shows("schedule.usage")  # an officer in no group: how to set one
    stranger = Person(runtime, user="s", chat="s")
    await stranger.send("/schedule")
    assert stranger.shows("not.member")
    await boss.send("/newpatrol Tổ 2")
    await lan.send("/leave")
    await lan.send(f"/join {filled(boss.said(), 'patrol.created')['code']}")
    await lan.send("/schedule")
    assert lan.shows("schedule.none", group="Tổ 2")


async def test_patrol_commands_respect_scope_and_input(runtime: Runtime, clock: FakeClock) -> None:
    await group_with_members(runtime, clock)
    cam = await officer(runtime, "Cam", "cam-thuy")
    await cam.send("/patrol Tổ 1")
    assert cam.shows("patrol.not_found", name="Tổ 1")
    await cam.send("/schedule Tổ 1 | Mon 20:00-22:00")
    assert cam.shows("patrol.not_found", name="Tổ 1")
    await cam.send("/newpatrol Tổ Cam | an-thuy")
    assert cam.shows("not.allowed")
    await cam.send("/schedule Tổ 1 | every day")
    assert cam.shows("schedule.usage")
    boss = await officer(runtime, "An2", "an-thuy")
    await boss.send("/schedule Tổ 1 | T2-T3 8h15-10h")
    assert boss.shows("schedule.set", group="Tổ 1", slots="T2 08:15-10:00, T3 08:15-10:00")
    district = await officer(runtime, "Huyen", None)
    await district.send("/newpatrol Tổ Huyện")
    assert district.shows("patrol.usage_new")
    await district.send("/newpatrol Tổ Huyện | cam-thuy")
    assert district.shows("patrol.created", name="Tổ Huyện", area="Xã Cam Thủy")
    resident = Person(runtime, user="r", chat="r")
    await resident.send("/patrols")
    assert resident.shows("unknown.command")


async def test_members_are_listed_and_removed_in_scope(runtime: Runtime, clock: FakeClock) -> None:
    boss, (_, minh), _ = await group_with_members(runtime, clock, "Lan", "Minh")
    await minh.send("/checkin")
    await minh.send("Đình làng")
    cam = await officer(runtime, "Cam", "cam-thuy")
    await cam.send("/members Tổ 1")
    assert cam.shows("patrol.not_found", name="Tổ 1")
    await boss.send("/members Tổ 1")
    labels = [o.label for o in boss.options()]
    assert len(labels) == 2
    assert says(labels[0], "button.remove", name="Lan")
    assert says(labels[1], "button.remove", name="Minh")
    remove_minh = boss.button("Minh").data
    await cam.choose(remove_minh)  # another commune's officer, with a copied button
    assert cam.shows("not.allowed")
    await boss.choose(remove_minh)
    assert boss.shows("member.removed", name="Minh", group="Tổ 1")
    await boss.choose(remove_minh)
    assert boss.shows("not.allowed")  # a replayed button changes nothing
    await minh.send("/checkin")
    assert minh.shows("not.member")
    async with runtime.db.transaction() as db:
        shift = await db.scalar(select(Shift))
    assert shift is not None and shift.auto_closed  # the open shift was closed with it
    await boss.send("/members Tổ 1")
    (label,) = [o.label for o in boss.options()]
    assert says(label, "button.remove", name="Lan")


async def test_the_grace_period_is_a_setting(runtime: Runtime, clock: FakeClock) -> None:
    runtime.limits = replace(runtime.limits, patrol_grace_minutes=10)
    _, (lan,), _ = await group_with_members(runtime, clock, "Lan")
    clock.now = local(25, 21, 11)
    assert (await run_patrol_check(runtime))["missed"] == 1
    await lan.send("/checkin")
    await lan.send("Chợ")
    assert lan.shows("checkin.late")
