"""Processing model: one chat strictly in order, different chats at the same time."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.base import ChatTurns
from bot.lanes import ChatLanes, lane_key


def update(update_id: int, chat_id: int) -> dict[str, Any]:
    """A Bot API update as Telegram sends it (the fields a lane looks at)."""
    chat = {"id": chat_id, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": update_id, "chat": chat}}


async def test_a_busy_chat_queues_its_updates_and_others_go_ahead() -> None:
    lanes = ChatLanes(max_concurrent_chats=2)
    log: list[str] = []
    release = asyncio.Event()

    finished = {"b1": asyncio.Event(), "c1": asyncio.Event()}

    async def work(name: str, wait: bool = False) -> None:
        log.append(f"start {name}")
        if wait:
            await release.wait()
        log.append(f"end {name}")
        if name in finished:
            finished[name].set()

    tasks = [asyncio.create_task(lanes.process_update(update(1, 10), work("a1", wait=True)))]
    tasks += [
        asyncio.create_task(lanes.process_update(update(n, 10), work(f"a{n}")))
        for n in range(2, 12)
    ]
    tasks.append(asyncio.create_task(lanes.process_update(update(20, 20), work("b1"))))
    tasks.append(asyncio.create_task(lanes.process_update(update(30, 30), work("c1"))))
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in finished.values())), 5)
    # Chat 10 is stuck on a1 with ten updates queued, yet chats 20 and 30 (two slots) went on.
    assert log[:1] == ["start a1"] and "start a2" not in log
    assert lanes.busy_chats == 1
    release.set()
    await asyncio.gather(*tasks)
    chat_10 = [entry for entry in log if entry.endswith(tuple(f"a{n}" for n in range(1, 12)))]
    assert chat_10 == [f"{step} a{n}" for n in range(1, 12) for step in ("start", "end")]
    assert lanes.busy_chats == 0


async def test_a_failing_update_does_not_block_its_chat() -> None:
    lanes = ChatLanes()
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> None:
        done.append(2)

    await asyncio.gather(
        lanes.process_update(update(1, 5), boom()), lanes.process_update(update(2, 5), fine())
    )
    assert done == [2] and lanes.busy_chats == 0


def test_every_kind_of_update_finds_its_chats_lane() -> None:
    chat = {"id": 42, "type": "private"}
    pressed = {"update_id": 3, "callback_query": {"id": "9", "message": {"chat": chat}}}
    edited = {"update_id": 4, "edited_message": {"message_id": 1, "chat": chat}}
    assert lane_key(update(1, 42)) == lane_key(pressed) == lane_key(edited) == 42
    # A button on a message the bot can no longer see, or an odd update: a lane of its own.
    unseen = {"update_id": 5, "callback_query": {"id": "10", "from": {"id": 42}}}
    odd = {"update_id": 6, "message": {"chat": "not a chat"}}
    assert len({lane_key(unseen), lane_key(odd), 42}) == 3


async def test_chat_turns_keep_each_chats_order_and_forget_idle_chats() -> None:
    turns = ChatTurns()
    log: list[str] = []

    async def message(chat: str, n: int) -> None:
        async with turns.turn(chat):
            log.append(f"{chat}{n} start")
            await asyncio.sleep(0.001 * (3 - n))  # earlier messages take longer
            log.append(f"{chat}{n} end")

    await asyncio.gather(*(message(chat, n) for n in range(3) for chat in "ab"))
    for chat in "ab":
        mine = [entry for entry in log if entry.startswith(chat)]
        assert mine == [f"{chat}{n} {step}" for n in range(3) for step in ("start", "end")]
    assert turns.chats == 0  # nothing kept for chats with nothing running
