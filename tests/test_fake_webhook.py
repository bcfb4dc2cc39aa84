"""The fake webhook delivery behaves as Telegram's Bot API server does (see its docstring)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.fake_telegram import FakeTelegramAPI
from tests.fake_webhook import SECRET_HEADER, WebhookDelivery, queue_of
from tests.local_server import serve_locally

JSONDict = dict[str, Any]


@dataclass
class Receiver:
    """A webhook that takes its time, remembers what was in flight, and can refuse."""

    delay: float = 0.03
    refuse: Counter[int] = field(default_factory=Counter)  # update_id -> refusals left
    in_flight: Counter[object] = field(default_factory=Counter)  # queue -> calls now
    most_in_flight: Counter[object] = field(default_factory=Counter)
    at_once: int = 0
    most_at_once: int = 0
    taken: list[int] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        """Take one call: 200, or 500 while the update is to be refused."""
        update = await request.json()
        self.secrets.add(request.headers.get(SECRET_HEADER, ""))
        key = queue_of(update)
        self.in_flight[key] += 1
        self.at_once += 1
        self.most_in_flight[key] = max(self.most_in_flight[key], self.in_flight[key])
        self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            await asyncio.sleep(self.delay)
            number = update["update_id"]
            if self.refuse[number] > 0:
                self.refuse[number] -= 1
                return web.Response(status=500)
            self.taken.append(number)
            return web.Response()
        finally:
            self.in_flight[key] -= 1
            self.at_once -= 1


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A receiving webhook, served locally, and its URL."""
    receiving = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiving.handle)
    runner, root = await serve_locally(app)
    yield receiving, f"{root}/hook"
    await runner.cleanup()


def numbered(updates: list[JSONDict]) -> list[JSONDict]:
    """Updates with ids in the order they were written."""
    return [{**update, "update_id": 1000 + n} for n, update in enumerate(updates)]


async def test_one_chats_messages_are_never_in_flight_together_and_keep_their_order(
    receiver: tuple[Receiver, str],
) -> None:
    receiving, url = receiver
    api = FakeTelegramAPI()
    residents = [api.user(500 + n, f"R{n}") for n in range(10)]
    updates = numbered([api.text_update(r, f"step {s}") for s in range(5) for r in residents])
    receiving.refuse[updates[12]["update_id"]] = 2  # refused twice: its chat's queue waits
    async with WebhookDelivery([url], "s3cret", max_connections=8) as delivery:
        for update in updates:
            delivery.push(update)
        await asyncio.wait_for(delivery.delivered(), 30)
    assert sorted(receiving.taken) == [u["update_id"] for u in updates]  # each once
    for resident in residents:
        mine = [u["update_id"] for u in updates if u["message"]["chat"]["id"] == resident["id"]]
        assert [n for n in receiving.taken if n in mine] == mine
    assert set(receiving.most_in_flight.values()) == {1}
    assert receiving.most_at_once == 8
    assert receiving.secrets == {"s3cret"}


async def test_a_residents_message_and_button_press_can_be_in_flight_together(
    receiver: tuple[Receiver, str],
) -> None:
    receiving, url = receiver
    receiving.delay = 0.2
    api = FakeTelegramAPI()
    resident = api.user(600, "R")
    pressed = api.callback_update(resident, "o:cat:theft", message_id=7)
    updates = numbered([api.text_update(resident, "hello"), pressed])
    async with WebhookDelivery([url], "s", max_connections=4) as delivery:
        for update in updates:
            delivery.push(update)
        await asyncio.wait_for(delivery.delivered(), 10)
    assert receiving.most_at_once == 2  # two queues: nothing holds the press back


async def test_a_refused_update_comes_again_and_a_load_balancer_spreads_the_calls(
    receiver: tuple[Receiver, str],
) -> None:
    receiving, url = receiver
    api = FakeTelegramAPI()
    updates = numbered([api.text_update(api.user(700 + n, "R"), "hi") for n in range(6)])
    receiving.refuse[updates[0]["update_id"]] = 1
    # Two "processes" at one address: the route decides which one each call is counted to.
    async with WebhookDelivery([url, url], "s", max_connections=2) as delivery:
        for update in updates:
            delivery.push(update)
        await asyncio.wait_for(delivery.delivered(), 10)
    first = [call for call in delivery.calls if call[0] == updates[0]["update_id"]]
    assert [status for _, _, status in first] == [500, 200]
    assert {target for _, target, _ in delivery.calls} == {0, 1}
    assert len(delivery.calls) == len(updates) + 1
