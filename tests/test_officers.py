"""Officers through the real unit of work: enrolment, scope, alerts, triage, dialogue, audit."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.runtime import Runtime
from bot.scheduler import run_escalation
from handlers.common.codes import parse_code, show_code
from handlers.common.texts import BASE_LANGUAGE
from handlers.common.texts import text as catalogue_text
from handlers.common.types import Option, Reply
from handlers.conversation.buttons import read_button
from handlers.officers.enrolment import invite_officer
from storage.models import AuditLog, Outbox, ThreadMessage, Tip, TipEvent, TipStatus
from storage.tips import Scope, list_tips
from tests.conftest import FakeClock, Person, file_tip
from tests.messages import filled, says


def vi(key: str, **values: Any) -> str:
    """The message `key` as a Vietnamese reader gets it: for a value that is itself a message
    (a status name inside a notice), or for an answer that must be that message and nothing more."""
    return catalogue_text(BASE_LANGUAGE, key, **values)


async def invite(runtime: Runtime, name: str, area: str | None, admin: bool = False) -> str:
    """A fresh invite code, as `tipline officer invite` makes one."""
    async with runtime.db.transaction() as db:
        _, code = await invite_officer(
            db, runtime.context(), name=name, area=area, is_admin=admin, created_by=None
        )
    return code


async def officer(runtime: Runtime, name: str, area: str | None, admin: bool = False) -> Person:
    """An enrolled officer chatting from their own private chat."""
    person = Person(runtime, user=f"officer-{name}", chat=f"chat-{name}")
    await person.send(f"/officer {await invite(runtime, name, area, admin)}")
    assert person.shows("officer.welcome", name=name)
    return person


async def tip_id(runtime: Runtime, code: str) -> int:
    async with runtime.db.transaction() as db:
        found = await db.scalar(select(Tip.id).where(Tip.code == parse_code(code)))
    assert found is not None
    return int(found)


async def outbox_to(runtime: Runtime, *, officer: bool) -> list[Reply]:
    """Queued messages for officers (or for tipsters), oldest first."""
    async with runtime.db.transaction() as db:
        rows = list(await db.scalars(select(Outbox).order_by(Outbox.id)))
    return [Reply.from_json(r.payload) for r in rows if (r.officer_id is not None) == officer]


async def alerted(runtime: Runtime) -> list[str]:
    """The names of the officers messages were queued for, oldest first."""
    async with runtime.db.transaction() as db:
        rows = await db.execute(
            text("SELECT o.name FROM outbox b JOIN officer o ON o.id = b.officer_id ORDER BY b.id")
        )
        return [name for (name,) in rows]


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.db.transaction() as db:
        return [row.action for row in await db.scalars(select(AuditLog).order_by(AuditLog.id))]


# --- enrolment ---


async def test_enrolment_valid_reused_expired_and_forged(
    runtime: Runtime, clock: FakeClock
) -> None:
    code = await invite(runtime, "An", "an-thuy")
    first = Person(runtime, user="an", chat="chat-an")
    await first.send(f"/start off-{code}")  # the deep link
    assert first.shows("officer.welcome", name="An", scope="Xã An Thủy")
    second = Person(runtime, user="intruder", chat="chat-x")
    await second.send(f"/officer {code}")
    assert second.shows("officer.bad_code")
    await second.send("/officer ZZZZZZZZZZ")
    assert second.shows("officer.bad_code")
    await second.send("/tips")
    assert second.shows("unknown.command")
    late = await invite(runtime, "Late", None)
    clock.advance(hours=73)
    await second.send(f"/officer {late}")
    assert second.shows("officer.expired_code")
    await second.send("/tips")
    assert second.shows("unknown.command")
    assert (await audit_actions(runtime)).count("enrol") == 1


async def test_an_invite_never_takes_over_another_officers_chat(runtime: Runtime) -> None:
    """A second officer's code typed in a chat an officer holds is refused, names who holds it,
    and stays unused for the invited person's own chat; the holder is not cut off."""
    an = await officer(runtime, "An", "an-thuy")
    code = await invite(runtime, "Binh", "cam-thuy")
    await an.send(f"/officer {code}")
    assert an.shows("officer.chat_taken", name="An")
    await an.send("/tips")
    assert not an.shows("unknown.command")  # still An's chat
    binh = Person(runtime, user="officer-Binh", chat="chat-Binh")
    await binh.send(f"/officer {code}")
    assert binh.shows("officer.welcome", name="Binh")
    await an.send(f"/officer {await invite(runtime, 'Chi', None)}")
    assert an.shows("officer.chat_taken", name="An")
    assert (await audit_actions(runtime)).count("enrol") == 2


async def test_officer_commands_look_unknown_to_residents(person: Person) -> None:
    await person.send("/nonexistent")
    unknown = [(r.text, r.options) for r in person.last]
    for command in ("/tips", "/tips all", "/alerts off", "/export", "/invite"):
        await person.send(command)
        assert [(r.text, r.options) for r in person.last] == unknown, command


# --- scope ---


async def test_scope_isolation_between_communes_and_top_only(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code_a, _ = await file_tip(resident, area="an thuy", story="Ở An Thủy")
    code_b, _ = await file_tip(resident, area="cam thuy", story="Ở Cam Thủy")
    code_secret, _ = await file_tip(resident, area="an thuy", story="Chỉ huyện biết", top_only=True)
    an = await officer(runtime, "An", "an-thuy")
    district = await officer(runtime, "Huyen", None)
    await an.send("/tips all")
    listed = " ".join(o.label for o in an.options())
    assert code_a in listed and code_b not in listed and code_secret not in listed
    await an.send(f"/tip {code_b}")
    assert an.shows("tip.not_found", code=code_b)
    await an.send(f"/tip {code_secret}")
    assert an.shows("tip.not_found", code=code_secret)
    await an.choose(f"o:open:{await tip_id(runtime, code_b)}")  # a forged button
    assert an.shows("not.allowed")
    await an.choose(f"o:st:verifying:{await tip_id(runtime, code_secret)}")
    assert an.shows("not.allowed")
    await district.send("/tips all")
    listed = " ".join(o.label for o in district.options())
    assert all(code in listed for code in (code_a, code_b, code_secret))
    await district.send(f"/tip {code_secret}")
    assert "Chỉ huyện biết" in district.said()
    assert district.shows(
        "view.fields", top_only=vi("alert.top_only", police="Công an huyện Lệ Thủy")
    )
    async with runtime.db.transaction() as db:
        statuses = set(await db.scalars(select(Tip.status)))
    assert statuses == {TipStatus.RECEIVED}


async def test_lists_page_and_filter(runtime: Runtime, clock: FakeClock) -> None:
    runtime.limits = runtime.limits.__class__(tips_per_hour=50, messages_per_minute=100)
    resident = Person(runtime, user="r1", chat="r1")
    codes = [(await file_tip(resident, story=f"Chuyện số {n}"))[0] for n in range(10)]
    district = await officer(runtime, "Huyen", None)
    await district.send("/tips new")
    assert district.shows("tips.title", total=10, page=1, pages=2)
    assert codes[0] in district.options()[0].label  # oldest first
    await district.press("Tiếp")
    assert district.last[0].in_place and district.shows("tips.title", page=2, pages=2)
    clock.advance(hours=73)
    await district.send("/tips overdue")
    assert district.shows("tips.title", which=vi("which.overdue"), total=10)
    await district.send(f"/tip {codes[0]}")
    await district.press("Đang xác minh")
    await district.send("/tips overdue")
    # a status change restarts the clock
    assert district.shows("tips.title", which=vi("which.overdue"), total=9)
    await district.send("/tips open")
    assert district.shows("tips.title", which=vi("which.open"), total=10)
    await district.send("/tips nonsense")
    assert district.shows("tips.usage")


async def test_tips_lines_say_status_age_lock_assignee_and_text(
    runtime: Runtime, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    story = "Tối nào cũng có người đến mua ma túy ở cuối ngõ 5, sau nhà văn hóa thôn, từ 9 giờ"
    waiting, _ = await file_tip(resident, story=story)
    clock.advance(days=3)
    urgent, _ = await file_tip(resident, urgent=True, story="Đánh nhau trước chợ")
    kept, _ = await file_tip(resident, story="Người quen của cán bộ xã", top_only=True)
    district = await officer(runtime, "Huyen", None)
    await district.send(f"/tip {kept}")
    await district.press("Giao cho")
    await district.press("Huyen")
    await district.send("/tips")
    said = district.said()
    assert district.shows("tips.title", which=vi("which.open"), total=3, page=1, pages=1)
    assert says(said, "tips.line", number=1, marks="🚨 ", code=urgent, overdue="", assignee="")
    assert says(
        said,
        "tips.line",
        number=2,
        marks="",
        code=waiting,
        category="Ma túy",
        area="Thị trấn Kiến Giang",
        status=vi("status.received"),
        age="3 ngày",
        overdue=vi("tips.overdue"),
        assignee="",
        excerpt="Tối nào cũng có người đến mua ma túy ở cuối ngõ 5, sau nhà…",
    )
    assert story not in said  # only its start: the view has the rest
    assert says(said, "tips.line", number=3, marks="🔒 ", code=kept, age="1 phút")
    assert says(said, "tips.line", code=kept, assignee=vi("tips.assignee", name="Huyen"))
    assert [o.label for o in district.options()] == [
        f"1 · {urgent}",
        f"2 · {waiting}",
        f"3 · {kept}",
    ]
    await district.press(f"2 · {waiting}")
    assert district.shows("view.head", code=waiting)


async def test_the_queue_puts_urgent_and_overdue_first_then_the_oldest(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Urgent, then overdue, then the oldest open; /tips all goes on with the rest, newest
    first. The order is the database's, so a page is one query however many tips there are."""
    runtime.limits = runtime.limits.__class__(tips_per_hour=50, messages_per_minute=100)
    resident = Person(runtime, user="r1", chat="r1")
    late = [(await file_tip(resident, story=f"Cũ {n}"))[0] for n in range(2)]
    clock.advance(hours=73)
    fresh = [(await file_tip(resident, story=f"Mới {n}"))[0] for n in range(7)]
    urgent, _ = await file_tip(resident, urgent=True, story="Đang đánh nhau")
    district = await officer(runtime, "Huyen", None)
    for code in fresh[:2]:  # the two first fresh ones leave the open queue
        await district.send(f"/tip {code}")
        await district.press("Đã xử lý")

    async def listed(which: str, page: int = 1) -> list[str]:
        await district.send(f"/tips {which}")
        for _ in range(page - 1):
            await district.press("Tiếp")
        return [o.label.split(" · ")[1] for o in district.options() if " · " in o.label]

    assert await listed("open") == [urgent, *late, *fresh[2:]]
    assert await listed("overdue") == late
    assert await listed("all", page=2) == [fresh[1], fresh[0]]  # the rest, newest first
    assert district.shows("tips.title", which=vi("which.all"), total=10, page=2, pages=2)
    # Pages of any size meet where the open tips end and the rest begin, without a gap.
    async with runtime.db.transaction() as db:
        pages = [
            await list_tips(
                db,
                Scope(),
                which="all",
                overdue_before=clock.now - timedelta(hours=72),
                offset=offset,
                limit=3,
            )
            for offset in range(0, 12, 3)
        ]
    walked = [str(show_code(tip.code)) for tips, _ in pages for tip in tips]
    assert walked == [urgent, *late, *fresh[2:], fresh[1], fresh[0]]
    assert {total for _, total in pages} == {10}


# --- alerts ---


async def test_alerts_follow_scope_urgency_and_preference(runtime: Runtime) -> None:
    an = await officer(runtime, "An", "an-thuy")
    await officer(runtime, "Cam", "cam-thuy")
    district = await officer(runtime, "Huyen", None)
    await district.send("/alerts all")
    assert district.shows("alerts.set", level=vi("alerts.all"))
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="an thuy", urgent=True, story="<b>Đánh nhau</b> *ngay*")
    alerts = await outbox_to(runtime, officer=True)
    assert len(alerts) == 2 and all(says(a.text, "alert.urgent") for a in alerts)
    assert "<b>Đánh nhau</b> *ngay*" in alerts[0].text  # shown as typed, never as markup
    assert [o.label for o in alerts[0].options] == [vi("button.ack"), vi("button.open")]
    assert sorted(await alerted(runtime)) == ["An", "Huyen"]  # not Cam: another commune
    await file_tip(resident, area="an thuy", story="Không gấp")
    assert (await alerted(runtime))[2:] == ["Huyen"]  # not urgent: only alerts=all
    await an.send("/alerts")
    await an.press("Tắt")
    await file_tip(resident, area="an thuy", urgent=True)
    assert (await alerted(runtime))[3:] == ["Huyen"]  # An switched alerts off
    await an.send("/alerts urgent")
    await file_tip(resident, area="an thuy", urgent=True, top_only=True)
    assert (await alerted(runtime))[4:] == ["Huyen"]  # district only: never the commune


async def test_unacknowledged_urgent_tip_is_escalated_once(
    runtime: Runtime, clock: FakeClock
) -> None:
    an = await officer(runtime, "An", "an-thuy")
    district = await officer(runtime, "Huyen", None)
    await district.send("/alerts off")
    second_district = await officer(runtime, "Tinh", None)
    resident = Person(runtime, user="r1", chat="r1")
    code_acked, _ = await file_tip(resident, area="an thuy", urgent=True, story="Đã có người")
    code_waiting, _ = await file_tip(resident, area="an thuy", urgent=True, story="Chưa ai")
    await an.choose(f"o:ack:{await tip_id(runtime, code_acked)}")
    assert an.shows("ack.done", code=code_acked)
    await an.choose(f"o:ack:{await tip_id(runtime, code_acked)}")
    assert an.shows("ack.already", code=code_acked, name="An")
    before = len(await outbox_to(runtime, officer=True))
    clock.advance(minutes=14)
    assert await run_escalation(runtime) == 0
    clock.advance(minutes=2)
    assert await run_escalation(runtime) == 1
    assert await run_escalation(runtime) == 0
    escalations = (await outbox_to(runtime, officer=True))[before:]
    assert (await alerted(runtime))[before:] == [second_district.user.removeprefix("officer-")]
    assert says(escalations[0].text, "alert.escalated", code=code_waiting)


# --- triage ---


async def test_status_changes_notes_and_pushes(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, passphrase = await file_tip(resident, contact=True)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    assert an.shows("view.fields", status=vi("status.received"))
    await an.press("Đang xác minh")
    await an.press("Có")  # the tipster will be told: asked first
    assert an.shows("status.changed", code=code, status=vi("status.verifying"))
    await an.send(f"/tip {code}")
    await an.press("Đang xác minh")
    assert an.shows("status.same", code=code)
    await an.send(f"/tip {code}")
    await an.press("Ghi chú công khai")
    await an.send("Đã cử tổ công tác đến")
    await an.send(f"/tip {code}")
    await an.press("Đóng: không có cơ sở")
    await an.press("Có")
    assert an.shows("ask.close_note", code=code, status=vi("status.closed_unfounded"))
    await an.photo("not-a-note")
    assert an.shows("need.text")
    await an.send("Đã kiểm tra, không có ai bán")
    verifying, note, closed = [n.text for n in await outbox_to(runtime, officer=False)]
    assert says(verifying, "status.notice", code=code, status=vi("status.verifying"))
    # The public note is news of a note, not of a status that did not change.
    assert says(note, "note.notice", code=code) and not says(note, "status.notice")
    assert says(closed, "status.notice", code=code, status=vi("status.closed_unfounded"))
    async with runtime.db.transaction() as db:
        events = list(await db.scalars(select(TipEvent).order_by(TipEvent.id)))
    assert [(e.status, e.note, e.officer_id is not None) for e in events] == [
        (TipStatus.RECEIVED, None, False),
        (TipStatus.VERIFYING, None, True),
        (None, None, True),
        (TipStatus.CLOSED_UNFOUNDED, "Đã kiểm tra, không có ai bán", True),
    ]
    await resident.send(f"/status {code}")
    await resident.send(passphrase)
    assert resident.shows("status.note", note="Đã cử tổ công tác đến")
    assert "không có ai bán" not in resident.said()  # the closing note is internal
    actions = await audit_actions(runtime)
    assert actions.count("view") == 4 and "public_note" in actions
    assert "status:closed_unfounded" in actions


def _kinds(options: list[Option]) -> list[tuple[type, str]]:
    """What each button does, whatever tip it is for: its kind and the status it names."""
    return [
        (type(button), getattr(button, "status", ""))
        for button in (read_button(o.data) for o in options)
    ]


async def test_a_tips_buttons_stay_in_place_and_mark_its_status(runtime: Runtime) -> None:
    """The same buttons in the same places on every tip and after every change, so a tap (or
    a number typed on Zalo) learnt by position never lands on another; one pressed on an old
    view does what its label said."""
    resident = Person(runtime, user="r1", chat="r1")
    plain, _ = await file_tip(resident)
    urgent, _ = await file_tip(resident, urgent=True)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {plain}")
    plain_kinds = _kinds(an.options())
    await an.send(f"/tip {urgent}")
    first = an.options()
    assert _kinds(first)[: len(plain_kinds)] == plain_kinds  # its take-it-on comes after them
    assert first[-1].label == vi("button.ack")
    await an.press("Nhận xử lý")
    await an.send(f"/tip {urgent}")
    assert [o.data for o in an.options()] == [o.data for o in first]
    assert an.options()[-1].label == vi("button.acked")
    await an.press("Đang xác minh")  # no contact allowed: at once
    await an.send(f"/tip {urgent}")
    assert [o.data for o in an.options()] == [o.data for o in first]
    marked = [o.label for o in an.options() if o.label.startswith("✔ ")]
    assert marked == [vi("button.current", label=vi("button.verifying"))]
    await an.press("Đang xác minh")
    assert an.shows("status.same", code=urgent)
    await an.choose(first[1].data)  # "Đã xử lý" on the first view, long since stale
    assert an.shows("status.changed", code=urgent, status=vi("status.handled"))


async def test_a_change_the_tipster_hears_of_is_confirmed_first(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    told, _ = await file_tip(resident, contact=True)
    quiet, _ = await file_tip(resident, contact=False)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {told}")
    await an.press("Đã xử lý")
    assert an.shows("confirm.status", code=told, status=vi("status.handled"))
    assert [o.label for o in an.options()] == [vi("yes"), vi("no")]
    yes = an.button(vi("yes")).data
    await an.press(vi("no"))
    assert an.shows("status.kept", code=told, status=vi("status.received"))
    assert an.last[0].in_place  # the answer takes the question's place
    assert await outbox_to(runtime, officer=False) == []
    await an.choose(yes)  # a yes pressed later still does what it asked
    assert an.shows("status.changed", code=told, status=vi("status.handled"))
    assert an.last[0].in_place
    await an.choose(yes)  # and once only: the tipster hears of it once
    assert an.shows("status.same", code=told)
    (notice,) = await outbox_to(runtime, officer=False)
    assert says(notice.text, "status.notice", code=told, status=vi("status.handled"))
    # A closing is asked about first too, then its reason.
    await an.send(f"/tip {told}")
    await an.press("Đóng: tin rác")
    assert an.shows("confirm.status", code=told, status=vi("status.closed_spam"))
    await an.press(vi("yes"))
    assert an.shows("ask.close_note", code=told)
    await an.send("Không có thật")
    assert an.shows("status.changed", code=told, status=vi("status.closed_spam"))
    assert len(await outbox_to(runtime, officer=False)) == 2
    # A tipster who cannot be told: every change at once.
    await an.send(f"/tip {quiet}")
    await an.press("Đã xử lý")
    assert an.shows("status.changed", code=quiet, status=vi("status.handled"))
    await an.send(f"/tip {quiet}")
    await an.press("Đóng: không có cơ sở")
    assert an.shows("ask.close_note", code=quiet)
    # A closing the tip already has is said at once, with nothing to type.
    await an.send(f"/tip {told}")
    await an.press("Đóng: tin rác")
    assert an.shows("status.same", code=told)
    assert len(await outbox_to(runtime, officer=False)) == 2


async def test_next_tip_follows_the_queue_from_where_the_tip_stood(
    runtime: Runtime, clock: FakeClock
) -> None:
    runtime.limits = runtime.limits.__class__(tips_per_hour=50, messages_per_minute=100)
    resident = Person(runtime, user="r1", chat="r1")
    old_a, old_b = [(await file_tip(resident, story=f"Cũ {n}"))[0] for n in range(2)]
    clock.advance(hours=73)
    new_c, new_d = [(await file_tip(resident, story=f"Mới {n}"))[0] for n in range(2)]
    urgent, _ = await file_tip(resident, urgent=True)
    elsewhere, _ = await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "kien-giang")  # not An Thủy's: never in An's queue

    async def next_tip() -> str:
        """The code of the tip the "next tip" button opened."""
        await an.press(vi("button.next"))
        head = an.said().splitlines()[0]
        return next(code for code in (old_a, old_b, new_c, new_d, urgent) if code in head)

    await an.send("/tips")
    await an.press("1 ·")
    assert an.shows("view.head", code=urgent)
    assert await next_tip() == old_a
    # Verifying restarts old_a's clock, so it is no longer overdue; the next one is still
    # the one after where it stood, not after where it went.
    await an.press("Đang xác minh")
    assert [o.label for o in an.options()] == [vi("button.next"), vi("button.open")]
    assert await next_tip() == old_b
    await an.press("Ghi chú nội bộ")
    await an.send("Đã hỏi trưởng thôn")
    # old_a, no longer overdue, now stands first of the others, as /tips lists it.
    assert await next_tip() == old_a
    assert await next_tip() == new_c
    assert await next_tip() == new_d
    await an.press(vi("button.next"))
    assert an.shows("queue.end", code=new_d)
    await an.press(vi("button.queue"))
    assert an.shows("tips.title", which=vi("which.open"), total=5)
    # From a tip that left the queue, the next one is the queue's first.
    await an.send(f"/tip {urgent}")
    await an.press("Đã xử lý")
    assert await next_tip() == old_b
    await an.send(f"/tip {urgent}")
    assert await next_tip() == old_b
    await an.choose(f"o:nx:99:{await tip_id(runtime, new_d)}")  # a forged place: from the top
    assert an.shows("view.head", code=old_b)
    await an.send(f"/tip {elsewhere}")
    assert an.shows("tip.not_found", code=elsewhere)


async def test_an_internal_note_stays_with_the_officers(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, passphrase = await file_tip(resident, contact=True)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    await an.press("🗒️ Ghi chú nội bộ")
    assert an.shows("ask.internal_note", code=code)
    await an.send("Người bán là em họ trưởng thôn")
    assert an.said() == vi("internal_note.added", code=code)
    await an.send(f"/tip {code}")
    assert "Người bán là em họ trưởng thôn" in an.said()
    assert await outbox_to(runtime, officer=False) == []  # the tipster is told nothing
    await resident.send(f"/status {code}")
    await resident.send(passphrase)
    assert resident.shows("status.view", code=code, status=vi("status.received"))
    assert "em họ" not in resident.said()
    async with runtime.db.transaction() as db:
        tip = await db.scalar(select(Tip))
        assert tip is not None and tip.status is TipStatus.RECEIVED
    assert "internal_note" in await audit_actions(runtime)


async def test_close_as_a_duplicate_of_an_earlier_tip(runtime: Runtime) -> None:
    first, second, third = (Person(runtime, user=f"r{n}", chat=f"r{n}") for n in (1, 2, 3))
    code1, _ = await file_tip(first, story="Bán ma túy cuối ngõ 5")
    code2, _ = await file_tip(second, story="Ngõ 5 có người bán ma túy", contact=True)
    code3, passphrase3 = await file_tip(third, story="Lại thấy bán ở ngõ 5", contact=True)
    elsewhere, _ = await file_tip(first, area="an thuy", story="Ở An Thủy")
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code2}")
    await an.press("Đóng: trùng")
    assert an.shows("confirm.status", code=code2, status=vi("status.closed_duplicate"))
    await an.press("Có")
    assert an.said().startswith(vi("ask.duplicate_of", code=code2))
    for wrong, answer, values in (
        ("ngõ 5", "bad.code", {}),
        ("ZZZZ-ZZZZ", "tip.not_found", {"code": "ZZZZ-ZZZZ"}),
        (elsewhere, "tip.not_found", {"code": elsewhere}),  # another commune's: not An's to link
        (code2, "duplicate.self", {"code": code2}),
    ):
        await an.send(wrong)
        assert an.shows(answer, **values), wrong
    await an.send(code1.lower())
    assert an.said() == vi("duplicate.done", code=code2, original=code1)
    # A copy of a copy points at the first tip, so the chain never needs following by hand.
    await an.send(f"/tip {code3}")
    await an.press("Đóng: trùng")
    await an.press("Có")
    await an.send(code2)
    assert an.said() == vi("duplicate.done", code=code3, original=code1)
    await an.send(f"/tip {code3}")
    assert an.shows("view.duplicate_of", code=code1)
    assert an.shows("view.fields", status=vi("status.closed_duplicate"))
    await an.press(f"↪️ Mở tin {code1}")
    assert code1 in an.said().splitlines()[0]
    ids = {code: await tip_id(runtime, code) for code in (code1, code2, code3)}
    stored = {parse_code(code): code for code in ids}
    async with runtime.db.transaction() as db:
        links = {
            stored[tip.code]: tip.duplicate_of_id
            for tip in await db.scalars(select(Tip).where(Tip.id.in_(ids.values())))
        }
    assert links == {code1: None, code2: ids[code1], code3: ids[code1]}
    # Each tipster hears that their tip is closed, never the other tipster's code.
    notices = [n.text for n in await outbox_to(runtime, officer=False)]
    closed = vi("status.closed_duplicate")
    assert len(notices) == 2 and all(says(n, "status.notice", status=closed) for n in notices)
    assert not any(code1 in n or code1.replace("-", "") in n for n in notices)
    await third.send(f"/status {code3}")
    await third.send(passphrase3)
    assert code1 not in third.said() and code1.replace("-", "") not in third.said()
    assert (await audit_actions(runtime)).count("duplicate_of") == 2
    await an.send("/export")
    (reply,) = an.last
    assert reply.document is not None
    rows = tip_rows(reply.document.content)
    column = rows[0].index(vi("export.column.duplicate_of"))
    assert {row[0]: row[column] for row in rows[1:]} == {code1: None, code2: code1, code3: code1}


async def test_assign_to_an_officer_in_scope(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy")
    an = await officer(runtime, "An", "an-thuy")
    await officer(runtime, "Cam", "cam-thuy")
    await officer(runtime, "Huyen", None)
    await an.send(f"/tip {code}")
    await an.press("Giao cho")
    assert sorted(o.label for o in an.options()) == ["An", "Huyen"]
    await an.press("Huyen")
    assert an.shows("assign.done", code=code, name="Huyen")
    notices = await outbox_to(runtime, officer=True)
    assert says(notices[-1].text, "assign.notice", by="An", code=code)
    await an.send(f"/tip {code}")
    assert an.shows("view.fields", assigned="Huyen")


# --- dialogue ---


async def test_question_and_answer_with_contact(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, contact=True)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    await an.press("Hỏi người báo tin")
    asked = "Người bán mặc áo màu gì?"
    await an.send(asked)
    assert an.shows("question.relayed", code=code)
    (question,) = await outbox_to(runtime, officer=False)
    # says() takes the text it searches as `text`: a message's own {text} is filled with vi()
    assert vi("question.to_tipster", code=code, text=asked) in question.text
    assert "An" not in question.text
    intruder = Person(runtime, user="x", chat="x")
    await intruder.choose(question.options[0].data)
    assert intruder.shows("answer.not_allowed")
    await resident.choose(question.options[0].data)
    assert resident.shows("ask.answer", code=code)
    answer = "Áo khoác đen"
    await resident.send(answer)
    assert resident.shows("answer.sent")
    answers = await outbox_to(runtime, officer=True)
    assert vi("answer.to_officer", code=code, question=asked, text=answer) in answers[-1].text
    await an.send(f"/tip {code}")
    assert vi("view.answer", text=answer) in an.said()
    await resident.choose(question.options[0].data)  # answering twice is fine: a follow-up
    await resident.send("/cancel")
    assert resident.shows("cancelled")


async def test_question_waits_for_a_tipster_without_contact(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, passphrase = await file_tip(resident, contact=False)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    await an.press("Hỏi người báo tin")
    await an.send("Khoảng mấy giờ?")
    assert an.shows("question.waiting", code=code)
    assert await outbox_to(runtime, officer=False) == []
    await resident.send(f"/status {code}")
    await resident.send(passphrase)
    assert vi("thread.question", text="Khoảng mấy giờ?") in resident.said()
    await resident.press("Trả lời câu hỏi")
    await resident.send("Khoảng 9 giờ tối")
    assert resident.shows("answer.sent")
    async with runtime.db.transaction() as db:
        thread = list(await db.scalars(select(ThreadMessage).order_by(ThreadMessage.id)))
    assert [m.text for m in thread] == ["Khoảng mấy giờ?", "Khoảng 9 giờ tối"]
    assert thread[0].answered_at is not None


async def test_revoked_officer_buttons_change_nothing(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    verifying = an.button("Đang xác minh").data
    async with runtime.db.transaction() as db:
        await db.execute(text("UPDATE officer SET revoked_at = created_at"))
    await an.choose(verifying)
    assert an.shows("not.allowed")
    await an.send("/tips")
    assert an.shows("unknown.command")
    async with runtime.db.transaction() as db:
        assert await db.scalar(select(Tip.status)) is TipStatus.RECEIVED


# --- export (tests/test_export.py) and audit ---


def tip_rows(document: bytes) -> list[tuple[Any, ...]]:
    """The rows of an export's first sheet, the tips, the header first."""
    return list(load_workbook(io.BytesIO(document)).worksheets[0].iter_rows(values_only=True))


async def test_audit_log_is_append_only(runtime: Runtime) -> None:
    await officer(runtime, "An", None)
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with runtime.db.transaction() as db:
                await db.execute(text(statement))
    assert await audit_actions(runtime) == ["invite", "enrol"]


async def test_admin_invites_from_the_chat(runtime: Runtime) -> None:
    admin = await officer(runtime, "Chief", None, admin=True)
    plain = await officer(runtime, "Plain", None)
    await plain.send("/invite")
    assert plain.shows("not.allowed")
    await admin.send("/tip")  # an officer can file a tip too; an invite must not lose it
    await admin.press("Trộm cắp")
    await admin.send("/invite")
    await admin.send("Nguyễn Văn Mới")
    await admin.press("Xã Hoa Thủy")
    await admin.press("Không")
    code = filled(admin.said(), "invite.made")["code"]
    assert admin.shows("ask.area")  # the tip resumes
    newcomer = Person(runtime, user="new", chat="chat-new")
    await newcomer.send(f"/officer {code}")
    assert newcomer.shows("officer.welcome", name="Nguyễn Văn Mới", scope="Xã Hoa Thủy")
    await newcomer.send("/invite")
    assert newcomer.shows("not.allowed")


async def test_the_outbox_sender_is_woken_only_by_updates_that_queued_messages(
    runtime: Runtime,
) -> None:
    await officer(runtime, "An", "an-thuy")
    resident = Person(runtime, user="r1", chat="r1")
    runtime.outbox_ready.clear()
    await resident.send("/start")
    await resident.send("/tip")
    assert not runtime.outbox_ready.is_set()  # nothing for anyone else: no wasted wake
    await file_tip(resident, area="an thuy", urgent=True)
    assert runtime.outbox_ready.is_set()  # the urgent alert for An
    assert await alerted(runtime) == ["An"]


async def test_an_answer_too_long_is_refused_whole_and_the_step_stays(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, contact=True)
    an = await officer(runtime, "An", "kien-giang")
    await an.send(f"/tip {code}")
    await an.press("Hỏi người báo tin")
    await an.send("Kể thêm được không?")
    (question,) = await outbox_to(runtime, officer=False)
    await resident.choose(question.options[0].data)
    long_answer = "Tôi thấy " + "x" * 2100
    await resident.send(long_answer)
    assert resident.shows("answer.too_long", length=f"{len(long_answer):,}".replace(",", "."))
    assert await outbox_to(runtime, officer=True) == []  # nothing relayed, nothing cut
    await resident.send("Ngắn thôi")  # still on the answer step
    assert resident.shows("answer.sent")
    relayed = await outbox_to(runtime, officer=True)
    assert (
        vi("answer.to_officer", code=code, question="Kể thêm được không?", text="Ngắn thôi")
        in relayed[-1].text
    )
