"""Group commits: updates that wait for the database together share one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot import runtime as runtime_module
from bot.runtime import Runtime
from handlers.common.texts import text
from handlers.common.types import Kind
from handlers.dispatch import dispatch as real_dispatch
from storage.group_commit import GroupCommit
from storage.models import Conversation, ProcessedUpdate
from tests.conftest import Person


def residents(runtime: Runtime, count: int) -> list[Person]:
    """People in private chats of their own."""
    return [Person(runtime, user=f"r{n}", chat=f"c{n}") for n in range(count)]


def count_commits(runtime: Runtime) -> list[int]:
    """A counter of the writer's COMMITs, one list item per commit."""
    commits: list[int] = []
    event.listen(runtime.db._engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def stored(runtime: Runtime, model: Any) -> int:
    """How many rows of a table another transaction sees."""
    async with runtime.db.transaction() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_updates_arriving_together_share_one_commit(runtime: Runtime) -> None:
    people = residents(runtime, 10)
    commits = count_commits(runtime)
    answers = await asyncio.gather(*(p.send("/tip") for p in people))
    assert all("Bước 1" in replies[0].text for replies in answers)
    assert len(commits) == 1  # ten updates, one transaction
    assert await stored(runtime, ProcessedUpdate) == 10  # committed before anyone was answered
    assert await stored(runtime, Conversation) == 10


async def test_a_failing_update_costs_the_others_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = residents(runtime, 5)
    doomed = runtime.sealer.pseudonym("console", "r2")

    async def dispatch(msg: Any, session: Any, ctx: Any, started: Any) -> Any:
        replies = await real_dispatch(msg, session, ctx, started)  # writes in the transaction
        if msg.sender == doomed:
            raise RuntimeError("a handler bug")
        return replies

    monkeypatch.setattr(runtime_module, "dispatch", dispatch)
    answers = await asyncio.gather(*(p.send("/tip") for p in people))
    assert answers[2][0].text == text("vi", "error") + "\n" + text("en", "error")
    assert [n for n, replies in enumerate(answers) if "Bước 1" in replies[0].text] == [0, 1, 3, 4]
    # The four others are stored; the failed one left nothing, so a redelivery runs it afresh.
    assert await stored(runtime, ProcessedUpdate) == 4
    assert await stored(runtime, Conversation) == 4
    monkeypatch.setattr(runtime_module, "dispatch", real_dispatch)
    retry = people[2].incoming(Kind.COMMAND, command="tip")
    assert "Bước 1" in (await people[2].deliver(retry))[0].text


async def test_a_group_cut_short_leaves_nobody_waiting(runtime: Runtime) -> None:
    commits = GroupCommit(runtime.db)
    entered, never = asyncio.Event(), asyncio.Event()

    async def stuck(_session: Any) -> None:
        entered.set()
        await never.wait()

    running = asyncio.create_task(commits.run(stuck))
    queued = asyncio.create_task(commits.run(stuck))
    await asyncio.wait_for(entered.wait(), 5)
    assert commits._drains
    for drain in commits._drains:
        drain.cancel()  # as at shutdown
    for caller in (running, queued):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(caller, 5)  # cancelled, not left hanging
