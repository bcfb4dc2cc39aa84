"""An officer's actions on a tip, called as a web page would: no chat, no Turn, no Reply."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.common.texts import text
from handlers.common.types import Reply
from handlers.triage.actions import (
    Acting,
    acknowledge,
    add_public_note,
    ask_tipster,
    assign,
    close_as_duplicate,
    set_status,
    tells_tipster,
)
from storage.models import AuditLog, Officer, Outbox, Tip, TipEvent, TipStatus
from tests.conftest import Person, file_tip
from tests.messages import says
from tests.test_officers import officer


async def _by_name(runtime: Runtime, name: str) -> Officer:
    async with runtime.db.transaction() as db:
        found = await db.scalar(select(Officer).where(Officer.name == name))
    assert found is not None
    return found


async def test_actions_write_audit_and_tell_without_a_chat(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    await file_tip(resident, area="an thuy", story="Ở An Thủy", contact=True)
    await officer(runtime, "An", "an-thuy")
    await officer(runtime, "Binh", "an-thuy")
    await officer(runtime, "Cam", "cam-thuy")
    an, binh, cam = [await _by_name(runtime, name) for name in ("An", "Binh", "Cam")]
    async with runtime.db.transaction() as db:
        tip = await db.scalar(select(Tip))
        assert tip is not None
        acting = Acting(db, runtime.context(), an)
        outbox_before = len(list(await db.scalars(select(Outbox))))
        assert await tells_tipster(acting, tip)  # contact allowed: worth a confirmation
        assert await set_status(acting, tip, TipStatus.VERIFYING, note=None)
        assert not await set_status(acting, tip, TipStatus.VERIFYING, note=None)
        await add_public_note(acting, tip, "Đã cử người đến")
        assert await acknowledge(acting, tip)
        assert not await acknowledge(acting, tip)
        assert not await assign(acting, tip, cam)  # another commune's officer cannot see it
        assert await assign(acting, tip, binh)
        assert await ask_tipster(acting, tip, "Mấy giờ thì có người bán?")  # contact allowed
        outbox = list(await db.scalars(select(Outbox).order_by(Outbox.id)))[outbox_before:]
        audits = [a.action for a in await db.scalars(select(AuditLog).order_by(AuditLog.id))]
        events = list(await db.scalars(select(TipEvent).where(TipEvent.tip_id == tip.id)))
    assert audits[-5:] == ["status:verifying", "public_note", "acknowledge", "assign", "question"]
    # The tipster hears of the status, the note and the question; Binh of the assignment; Cam
    # of nothing.
    assert [(row.tip_id, row.officer_id) for row in outbox] == [
        (tip.id, None),
        (tip.id, None),
        (None, binh.id),
        (tip.id, None),
    ]
    status_notice, note_notice = (Reply.from_json(row.payload).text for row in outbox[:2])
    assert says(status_notice, "status.notice", status=text("vi", "status.verifying"))
    assert says(note_notice, "note.notice")  # news of a note, not of the unchanged status
    assert [e.status for e in events].count(TipStatus.VERIFYING) == 1
    assert [e.assigned_officer_id for e in events if e.assigned_officer_id] == [binh.id]
    assert tip.acknowledged_by_id == an.id


async def test_a_duplicate_points_at_the_first_tip_its_officer_can_see(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    for story in ("Lần một", "Lần hai", "Lần ba"):
        await file_tip(resident, area="an thuy", story=story)
    await file_tip(resident, area="cam thuy", story="Ở Cam Thủy")
    await officer(runtime, "An", "an-thuy")
    an = await _by_name(runtime, "An")
    async with runtime.db.transaction() as db:
        one, two, three, cam = list(await db.scalars(select(Tip).order_by(Tip.id)))
        acting = Acting(db, runtime.context(), an)
        assert await close_as_duplicate(acting, two, two) is None
        assert await close_as_duplicate(acting, two, cam) is None  # not An's to see
        assert await close_as_duplicate(acting, two, one) is one
        assert await close_as_duplicate(acting, three, two) is one  # a copy of a copy
        assert await close_as_duplicate(acting, one, three) is None  # would loop back to one
        audits = [
            (a.tip_id, a.detail)
            for a in await db.scalars(select(AuditLog).order_by(AuditLog.id))
            if a.action == "duplicate_of"
        ]
    assert (two.status, two.duplicate_of_id) == (TipStatus.CLOSED_DUPLICATE, one.id)
    assert (three.status, three.duplicate_of_id) == (TipStatus.CLOSED_DUPLICATE, one.id)
    assert (one.status, one.duplicate_of_id) == (TipStatus.RECEIVED, None)
    assert audits == [(two.id, f"of tip {one.id}"), (three.id, f"of tip {one.id}")]
