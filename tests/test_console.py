"""Several people on one console database (`tipline console --as NAME`): each terminal is its
own chat, and its outbox delivers that chat's messages only, leaving every other one queued,
once each, for the terminal that holds its chat."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import operator
from bot.channels.console import EXPORTS, ConsoleChannel
from bot.outbox import OutboxSender
from bot.pacing import Pacer
from bot.runtime import Runtime
from storage.models import Officer, Outbox, OutboxState
from tests.messages import filled, says
from tests.test_officers import invite

URGENT_TIP = ["/tip", "ma tuy", "an thuy", "bo qua", "Có người bán ma túy", "hom nay", "co", "1"]


@dataclass
class Terminal:
    """One `tipline console --as NAME` process: its person, screen and outbox."""

    console: ConsoleChannel
    screen: io.StringIO
    outbox: OutboxSender

    async def type(self, *lines: str) -> str:
        """Type lines as this person; returns the messages shown meanwhile."""
        start = len(self.messages())
        for line in lines:
            await self.console.take(line)
        return "\n".join(self.messages()[start:])

    def messages(self, *, delivered: bool = False) -> list[str]:
        """The messages the screen shows, as their text; with `delivered`, only those the
        outbox brought (the console marks each of their lines 📨 and indents all but the first)."""
        shown = [m.splitlines() for m in self.screen.getvalue().split("bot> ")[1:]]
        mark = "📨 "
        return [
            "\n".join(line.removeprefix("     ").removeprefix(mark) for line in lines)
            for lines in shown
            if lines[0].startswith(mark) or not delivered
        ]

    def delivered(self) -> list[str]:
        """The messages the outbox showed here."""
        return self.messages(delivered=True)


def terminal(runtime: Runtime, person: str | None) -> Terminal:
    """A console process as `person`, on its own runtime (its own database connections)."""
    screen = io.StringIO()
    console = ConsoleChannel(runtime, io.StringIO(), screen, person=person)
    outbox = OutboxSender(
        runtime,
        {console.name: console},
        pacers={console.name: Pacer(1000, 0)},
        only=console.recipients(),
    )
    return Terminal(console, screen, outbox)


async def rows_by_chat(runtime: Runtime) -> dict[str, list[Outbox]]:
    """Every queued message, by the chat of the officer it is for ("tipster" for tipsters)."""
    async with runtime.db.reading() as db:
        chats = {o.id: o.chat for o in await db.scalars(select(Officer))}
        rows = list(await db.scalars(select(Outbox).order_by(Outbox.id)))
    found: dict[str, list[Outbox]] = {}
    for row in rows:
        chat = chats[row.officer_id] if row.officer_id is not None else "tipster"
        found.setdefault(str(chat), []).append(row)
    return found


async def test_two_consoles_each_deliver_only_their_own_and_lose_nothing(
    runtime: Runtime, other: Runtime
) -> None:
    """An officer in one terminal, a resident in another, on one database: the urgent alert
    shows in the officer's terminal only, the news of the tip in the resident's only, each
    once; an officer with no terminal open keeps theirs queued, not failed."""
    officer = terminal(runtime, "can-bo-an")
    resident = terminal(other, "lan")
    assert says(await officer.type(f"/officer {await invite(runtime, 'An', 'an-thuy')}"),
                "officer.welcome", name="An")  # fmt: skip
    absent = terminal(runtime, "can-bo-huyen")  # enrols, then its terminal is closed
    await absent.type(f"/officer {await invite(runtime, 'Huyen', None)}")
    code = filled(await resident.type(*URGENT_TIP), "receipt")["code"]
    await operator.set_status(other, code, "verifying", "Đã cử người xác minh")
    for _ in range(3):  # both terminals at once, as two processes do, until nothing is left
        await asyncio.gather(officer.outbox.run_once(), resident.outbox.run_once())
    (alert,) = officer.delivered()
    assert says(alert, "alert.urgent")
    (news,) = resident.delivered()
    assert code in news and not says(news, "alert.urgent")
    rows = await rows_by_chat(runtime)
    assert [r.state for r in rows["local:can-bo-an"]] == [OutboxState.SENT]
    assert [r.state for r in rows["tipster"]] == [OutboxState.SENT]
    assert [r.state for r in rows["local:can-bo-huyen"]] == [OutboxState.PENDING]
    assert all(r.attempts == 1 for chat in rows.values() for r in chat if r.sent_at)
    # The terminal opened again later shows what waited for it, and nobody else's.
    assert await terminal(other, "can-bo-huyen").outbox.run_once() == 1


async def test_a_console_takes_no_other_chats_message_even_first_in_line(
    runtime: Runtime, other: Runtime
) -> None:
    """Messages for another chat ahead in the queue never hold up this terminal's own: each
    is looked at once, left queued, and not taken again."""
    officer = terminal(runtime, "can-bo-an")
    await officer.type(f"/officer {await invite(runtime, 'An', 'an-thuy')}")
    tipsters = [terminal(other, f"dan-{n}") for n in range(3)]
    codes = []
    for tipster in tipsters:
        codes.append(filled(await tipster.type(*URGENT_TIP), "receipt")["code"])
    for code in codes:
        await operator.set_status(runtime, code, "verifying", None)
    # Only the officer's terminal runs: it delivers the three alerts, and the three tipsters'
    # news stay queued for their terminals.
    while await officer.outbox.run_once():
        pass
    assert len(officer.delivered()) == 3
    assert officer.outbox.only is not None and len(officer.outbox.only.passed) == 3
    rows = await rows_by_chat(runtime)
    assert [r.state for r in rows["tipster"]] == [OutboxState.PENDING] * 3
    assert all(r.attempts == 0 for r in rows["tipster"])
    for tipster, code in zip(tipsters, codes, strict=True):
        assert await tipster.outbox.run_once() == 1
        (news,) = tipster.delivered()
        assert code in news


async def test_an_officer_and_a_patrol_member_in_two_terminals(
    runtime: Runtime, other: Runtime
) -> None:
    """The first hour of a patrol, one terminal each: the member reads the plan, checks in,
    photographs a checkpoint with a caption; the officer's /patrol shows the photo and caption."""
    officer = terminal(runtime, "can-bo-an")
    member = terminal(other, "hung")
    await officer.type(f"/officer {await invite(runtime, 'An', 'an-thuy')}")
    code = filled(await officer.type("/newpatrol Tổ thôn 3"), "patrol.created")["code"]
    await officer.type("/schedule Tổ thôn 3 | T2-CN 21h-23h30")
    await member.type(f"/join {code}", "Hùng")
    assert says(await member.type("/schedule"), "schedule.plan", group="Tổ thôn 3")
    await member.type("/checkin", "Nhà văn hóa thôn 3")
    assert says(await member.type("1", "!photo cau Cầu Mỹ Trạch, đèn hỏng"), "checkpoint.done")
    route = await officer.type("/patrol Tổ thôn 3")
    assert "📷 Cầu Mỹ Trạch, đèn hỏng" in route and "Hùng" in route


async def test_an_export_from_the_console_lands_in_the_exports_folder(
    runtime: Runtime, other: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not in the folder the console was started in, beside the database: in exports/ below
    it, made when missing, readable by this user alone; the console says where."""
    monkeypatch.chdir(tmp_path)
    officer = terminal(runtime, "can-bo-an")
    await officer.type(f"/officer {await invite(runtime, 'An', 'an-thuy')}")
    await terminal(other, "lan").type(*URGENT_TIP)
    shown = await officer.type("/export")
    (saved,) = spreadsheets(tmp_path)
    assert saved.parent == tmp_path / EXPORTS and str(saved) in shown
    assert saved.stat().st_mode & 0o777 == 0o600
    assert load_workbook(saved).worksheets[0].max_row == 2  # the header and the one tip


def spreadsheets(folder: Path) -> list[Path]:
    """Every .xlsx anywhere below a folder."""
    return sorted(folder.rglob("*.xlsx"))
