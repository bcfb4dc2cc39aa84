"""Two processes on one database: scheduled jobs fired at the same instant do their work once
and neither fails; one sender's messages handled by both at once are read one after the other.

The second process is a second Runtime with a Database of its own: its own connections (and on
SQLite its own writer lock), meeting the first only in the database, as two processes do.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.scheduler import run_escalation, run_housekeeping, run_patrol_check
from handlers.common.types import Kind
from storage.answers import AnswerRow, NewAnswer, add_answer, take_answers
from storage.models import MissedPatrol, Outbox
from tests.conftest import FakeClock, Person, file_tip
from tests.messages import filled, says
from tests.test_officers import officer
from tests.test_patrols import local

ROUNDS = 4


async def outbox_rows(runtime: Runtime) -> int:
    """How many messages are queued, for anyone."""
    async with runtime.db.reading() as db:
        return int(await db.scalar(select(func.count()).select_from(Outbox)) or 0)


async def test_escalation_fired_in_two_processes_at_once_escalates_each_tip_once(
    runtime: Runtime, other: Runtime, clock: FakeClock
) -> None:
    await officer(runtime, "An", "an-thuy")
    await officer(runtime, "Huyen", None)
    resident = Person(runtime, user="r1", chat="r1")
    for round_ in range(ROUNDS):
        for n in range(5):
            await file_tip(resident, area="an thuy", urgent=True, story=f"Gấp {round_}.{n}")
        before = await outbox_rows(runtime)
        clock.advance(minutes=16)
        counts = await asyncio.gather(run_escalation(runtime), run_escalation(other))
        assert sorted(counts) == [0, 5], counts
        assert await outbox_rows(runtime) == before + 5  # one officer above the commune
        clock.advance(hours=1)  # past the per-minute limits on filing tips


async def test_patrol_check_fired_in_two_processes_at_once_raises_each_miss_once(
    runtime: Runtime, other: Runtime, clock: FakeClock
) -> None:
    boss = await officer(runtime, "An", "an-thuy")
    for n in range(5):
        await boss.send(f"/newpatrol Tổ {n}")
        code = filled(boss.said(), "patrol.created")["code"]
        await boss.send(f"/schedule Tổ {n} | Mon-Sun 21:00-23:30")
        await Person(runtime, user=f"member-{n}", chat=f"m-{n}").send(f"/join {code}")
    for day in range(25, 25 + ROUNDS):
        clock.now = local(day, 21, 31)  # nobody checked in: five groups missed tonight
        results = await asyncio.gather(run_patrol_check(runtime), run_patrol_check(other))
        assert sorted(result["missed"] for result in results) == [0, 5], results
    async with runtime.db.reading() as db:
        missed = await db.scalar(select(func.count()).select_from(MissedPatrol))
    assert missed == 5 * ROUNDS
    assert await outbox_rows(runtime) == 5 * ROUNDS


async def test_housekeeping_in_two_processes_at_once_fails_neither(
    runtime: Runtime, other: Runtime, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    await resident.send("/tip")  # a draft left to expire
    clock.advance(days=30)
    removed = await asyncio.gather(run_housekeeping(runtime), run_housekeeping(other))
    assert sum(result["drafts"] for result in removed) == 1, removed


async def test_one_senders_two_messages_in_two_processes_at_once_are_read_in_turn(
    runtime: Runtime, other: Runtime
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    for _ in range(ROUNDS):
        await resident.send("/tip")
        # A double tap: the same answer to "Bước 1", reaching both processes together.
        taps = [resident.incoming(Kind.TEXT, text="ma tuy") for _ in range(2)]
        answers = await asyncio.gather(runtime.handle(taps[0]), other.handle(taps[1]))
        firsts = sorted(replies[0].text for replies in answers)
        # The second reads the conversation as the first left it: at the area, not the category
        # (so "ma tuy" is no commune's name there, and the question is asked again).
        assert says(firsts[0], "ask.area") and says(firsts[1], "use.buttons"), firsts
        await resident.send("/cancel")


async def test_groups_sharing_senders_in_two_processes_at_once_never_deadlock(
    runtime: Runtime, other: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    if runtime.db.is_sqlite:
        pytest.skip("SQLite has one writer: groups of two processes never overlap")
    first, second = (Person(runtime, user=f"r{n}", chat=f"r{n}") for n in (1, 2))
    for _ in range(ROUNDS):
        # Each process takes its two updates as one group, the senders in opposite orders:
        # taken one by one, each group would hold one sender's lock and wait for the other's.
        here = [runtime.handle(first.incoming(Kind.COMMAND, text="/tip", command="tip"))]
        here.append(runtime.handle(second.incoming(Kind.COMMAND, text="/tip", command="tip")))
        there = [other.handle(second.incoming(Kind.COMMAND, text="/cancel", command="cancel"))]
        there.append(other.handle(first.incoming(Kind.COMMAND, text="/cancel", command="cancel")))
        answers = await asyncio.gather(*here, *there)
        assert all(replies for replies in answers), answers
    assert "rolled back" not in caplog.text  # no deadlock broke a group up
    assert "deadlock" not in caplog.text.lower()


async def test_collecting_answers_passes_over_those_an_update_is_taking_for_its_chat(
    runtime: Runtime, other: Runtime, clock: FakeClock
) -> None:
    if not runtime.db.url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: the two transactions never overlap")
    rows = {chat: AnswerRow("telegram", chat, "a", queued=False) for chat in ("x", "y")}
    async with runtime.db.transaction() as db:
        for n, row in enumerate(rows.values()):
            await add_answer(db, NewAnswer(f"u{n}", row, b"sealed", clock()))
    async with runtime.db.transaction() as holding:
        # An update of chat x, not yet committed, has taken x's answer to deliver it first ...
        mine = await take_answers(
            holding, channel="telegram", owner="a", new_only=True, chat_key="x"
        )
        assert len(mine) == 1
        # ... and the collector, in another transaction meanwhile, takes y's without waiting.
        async with other.db.transaction() as collecting:
            taken = await asyncio.wait_for(
                take_answers(collecting, channel="telegram", owner="a", new_only=True), 5
            )
    assert [key for _, key, _, _ in taken] == ["u1"]
