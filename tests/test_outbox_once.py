"""Each outbox message reaches the fake Bot API once, in order, urgent ones first: with slow
chats, short leases, and two senders (two processes) on one database."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import JSON, bindparam, column, select, table, text

from bot.channels.telegram import TelegramChannel
from bot.outbox import CHATS_AT_ONCE, KEPT_FOR_ALERTS, OutboxSender
from bot.pacing import Pacer, Priority
from bot.runtime import Runtime, utc_now
from handlers.common.types import Media, MediaKind, Reply
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import Outbox, OutboxState, UTCDateTime
from storage.officers import add_officer
from storage.outbox import add_outbox, due_outbox, lease_outbox, set_outbox_lease
from tests.conftest import FakeClock
from tests.e2e.conftest import telegram_channel
from tests.fake_telegram import FakeTelegramAPI

FIRST_CHAT = 9000
SHORT_LEASE = timedelta(seconds=1)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API, answering after a short delay like a real one."""
    async with FakeTelegramAPI(latency=0.01) as fake:
        yield fake


@contextlib.asynccontextmanager
async def telegram(runtime: Runtime, api: FakeTelegramAPI) -> AsyncIterator[TelegramChannel]:
    """The real bot, sending only."""
    channel = telegram_channel(runtime, api, polling=False)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


@contextlib.asynccontextmanager
async def running(sender: OutboxSender) -> AsyncIterator[None]:
    """The sender's loop, as `tipline run` runs it, for the length of the block."""
    task = asyncio.create_task(sender.run_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def another_process(runtime: Runtime, url: str) -> Runtime:
    """A second bot process on the same database: its own connections, its own memory."""
    return Runtime(
        db=Database(url),
        sealer=runtime.sealer,
        catalog=runtime.catalog,
        timezone=runtime.timezone,
        limits=runtime.limits,
        clock=runtime.clock,
    )


async def officers_on_telegram(runtime: Runtime, count: int) -> list[int]:
    """`count` enrolled officers, in Telegram chats FIRST_CHAT, FIRST_CHAT + 1, ..."""
    ids = []
    async with runtime.db.transaction() as db:
        for n in range(count):
            officer = await add_officer(
                db, name=f"Officer {n}", area=None, is_admin=False, now=runtime.clock()
            )
            officer.channel, officer.chat = "telegram", str(FIRST_CHAT + n)
            officer.enrolled_at = runtime.clock()
            ids.append(officer.id)
    return ids


async def queue(runtime: Runtime, messages: list[tuple[int, Reply, Priority]]) -> None:
    """Queue messages for officers as the handlers do, and wake the sender."""
    async with runtime.db.transaction() as db:
        for officer, reply, priority in messages:
            await add_outbox(
                db,
                payload=reply.to_json(),
                now=runtime.clock(),
                priority=priority,
                officer_id=officer,
            )
    runtime.outbox_ready.set()


async def test_a_slow_chat_gets_each_message_once_and_in_order_with_a_short_lease(
    runtime: Runtime, api: FakeTelegramAPI
) -> None:
    runtime.clock = utc_now  # leases run out in real time
    (officer,) = await officers_on_telegram(runtime, 1)
    texts = [f"Tin {n}" for n in range(50)]
    await queue(runtime, [(officer, Reply(text), Priority.NOTICE) for text in texts])
    # About 0.05 s a message: the chat takes ~2.5 s, its 50 messages outlive a 1 s lease.
    pacer = Pacer(per_second=1000, chat_gap=0.04, chat_burst=1)
    async with telegram(runtime, api) as channel:
        sender = OutboxSender(
            runtime,
            {"telegram": channel},
            pacers={"telegram": pacer},
            idle_seconds=0.1,
            lease=SHORT_LEASE,
        )
        async with running(sender):
            await api.wait_for(lambda: len(api.sent_texts(FIRST_CHAT)) >= 50, timeout=30)
            # Queued last and least urgent, so it comes after anything still on its way.
            await queue(runtime, [(officer, Reply("Hết"), Priority.DIGEST)])
            await api.wait_for(lambda: "Hết" in api.sent_texts(FIRST_CHAT), timeout=10)
    assert api.sent_texts(FIRST_CHAT) == [*texts, "Hết"]


async def test_two_senders_on_one_database_deliver_every_message_once(
    runtime: Runtime, db_url: str, api: FakeTelegramAPI
) -> None:
    runtime.clock = utc_now
    officers = await officers_on_telegram(runtime, 24)
    priorities = [Priority.DIGEST, Priority.NOTICE, Priority.URGENT, Priority.NOTICE]
    messages = [
        (officer, Reply(f"Tin {n}.{k}"), priority)
        for k, priority in enumerate(priorities)
        for n, officer in enumerate(officers)
    ]
    await queue(runtime, messages)
    second = another_process(runtime, db_url)

    def sender(process: Runtime, channel: TelegramChannel) -> OutboxSender:
        # A chat's four messages take ~1.5 s: longer than a lease, as in a slow morning.
        pacer = Pacer(per_second=1000, chat_gap=0.5, chat_burst=1)
        return OutboxSender(
            process,
            {"telegram": channel},
            pacers={"telegram": pacer},
            idle_seconds=0.05,
            lease=SHORT_LEASE,
        )

    try:
        async with (
            telegram(runtime, api) as first_bot,
            telegram(second, api) as second_bot,
            running(sender(runtime, first_bot)),
            running(sender(second, second_bot)),
        ):
            await api.wait_for(lambda: len(api.calls_to("sendMessage")) >= 96, timeout=30)
            # Queued last and least urgent: each comes after anything still on its way there.
            await queue(runtime, [(officer, Reply("Hết"), Priority.DIGEST) for officer in officers])
            await api.wait_for(lambda: len(api.calls_to("sendMessage", text="Hết")) >= 24)
    finally:
        await second.db.dispose()
    for n in range(len(officers)):
        # Each once, and each chat's in order: the urgent one, the notices, then the digest.
        assert api.sent_texts(FIRST_CHAT + n) == [*(f"Tin {n}.{k}" for k in (2, 1, 3, 0)), "Hết"]


class Gate:
    """A clock for a Pacer that stands still, its sleeps waiting until the test opens it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waiting = asyncio.Event()
        self.opened = asyncio.Event()

    def clock(self) -> float:
        """The gate's time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait for the test, then let the time pass."""
        self.waiting.set()
        await self.opened.wait()
        self.now += seconds


async def test_a_message_taken_over_mid_way_is_finished_by_its_new_sender_alone(
    runtime: Runtime, db_url: str, api: FakeTelegramAPI, clock: FakeClock
) -> None:
    (officer,) = await officers_on_telegram(runtime, 1)
    photo = Media(MediaKind.PHOTO, "AgACAgUAAxkBAAIBPhoto")
    await queue(runtime, [(officer, Reply("Sự cố ở chốt 3", media=(photo,)), Priority.NOTICE)])
    gate = Gate()
    # The first sender's second part waits for its chat until the test says so.
    stalled = Pacer(chat_gap=10, chat_burst=1, clock=gate.clock, sleep=gate.sleep)
    second = another_process(runtime, db_url)
    try:
        async with telegram(runtime, api) as first_bot, telegram(second, api) as second_bot:
            first = OutboxSender(runtime, {"telegram": first_bot}, pacers={"telegram": stalled})
            stuck = asyncio.create_task(first.run_once())
            await gate.waiting.wait()  # the text went out; the photo waits for the chat
            clock.advance(minutes=3)  # its lease runs out while it waits
            assert await OutboxSender(second, {"telegram": second_bot}).run_once() == 1
            gate.opened.set()
            await stuck
    finally:
        await second.db.dispose()
    assert [c.method for c in api.calls if c.method.startswith("send")] == [
        "sendMessage",
        "sendPhoto",
    ]
    async with runtime.db.transaction() as db:
        (row,) = await db.scalars(select(Outbox))
    assert row.state is OutboxState.SENT and row.attempts == 2


async def a_morning_of_digests(runtime: Runtime, count: int) -> list[int]:
    """`count` officers with a digest queued each, and one more (the last) with none; on the
    wall clock, so the sender's loop finds them due."""
    runtime.clock = utc_now
    officers = await officers_on_telegram(runtime, count + 1)
    digests = [
        (officer, Reply(f"Bản tin {n}"), Priority.DIGEST)
        for n, officer in enumerate(officers[:count])
    ]
    await queue(runtime, digests)
    return officers


async def test_an_urgent_alert_overtakes_a_morning_of_digests(
    runtime: Runtime, api: FakeTelegramAPI
) -> None:
    officers = await a_morning_of_digests(runtime, 200)
    pacer = Pacer(per_second=50)
    alert_chat = FIRST_CHAT + 200

    def sent() -> list[str]:
        return [str(c.params["text"]) for c in api.calls_to("sendMessage")]

    async with telegram(runtime, api) as channel:
        sender = OutboxSender(runtime, {"telegram": channel}, pacers={"telegram": pacer})
        async with running(sender):
            await api.wait_for(lambda: len(sent()) >= 10)
            before = len(sent())
            await queue(runtime, [(officers[200], Reply("🚨 Tin khẩn"), Priority.URGENT)])
            await api.wait_for(lambda: "🚨 Tin khẩn" in sent())
            await api.wait_for(lambda: len(sent()) == 201, timeout=30)
    # 64 digests were in the sender's hands and 130 more queued; the alert went ahead of
    # nearly all of them (those already granted and writing their lease go first).
    assert sent().index("🚨 Tin khẩn") - before < 20
    assert api.sent_texts(alert_chat) == ["🚨 Tin khẩn"]


async def leased(runtime: Runtime) -> int:
    """Outbox messages a sender holds, not yet sent."""
    held = (Outbox.lease.is_not(None)) & (Outbox.state == OutboxState.PENDING)
    async with runtime.db.reading() as db:
        rows = await db.scalars(select(Outbox.id).where(held))
        return len(list(rows))


async def test_digests_starved_by_residents_answers_leave_room_for_an_urgent_alert(
    runtime: Runtime, api: FakeTelegramAPI
) -> None:
    officers = await a_morning_of_digests(runtime, 100)
    pacer = Pacer(per_second=20)

    async def crowd(lane: int) -> None:
        """Residents answered one after another without end: digests get no turn."""
        for n in itertools.count():
            async with pacer.slot(f"resident-{lane}-{n}", Priority.ANSWER):
                await asyncio.sleep(0)

    answering = [asyncio.create_task(crowd(lane)) for lane in range(10)]
    try:
        async with telegram(runtime, api) as channel:
            sender = OutboxSender(runtime, {"telegram": channel}, pacers={"telegram": pacer})
            async with running(sender):
                for _ in range(100):  # until the sender has taken what digests may take
                    if await leased(runtime) >= CHATS_AT_ONCE - KEPT_FOR_ALERTS:
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.2)  # a take overshooting the digests' places would be in
                # Taken whole, the digests had filled every place, and the alert waited for them.
                assert await leased(runtime) == CHATS_AT_ONCE - KEPT_FOR_ALERTS
                alert = (officers[100], Reply("🚨 Tin khẩn"), Priority.URGENT)
                await queue(runtime, [alert])
                alert_chat = FIRST_CHAT + 100
                await api.wait_for(lambda: bool(api.sent_texts(alert_chat)), 5, "the alert")
    finally:
        for task in answering:
            task.cancel()
    assert api.sent_texts(FIRST_CHAT + 100) == ["🚨 Tin khẩn"]


async def test_a_recipient_has_one_message_out_at_a_time_held_until_given_back(
    runtime: Runtime, clock: FakeClock
) -> None:
    first, second = await officers_on_telegram(runtime, 2)
    await queue(
        runtime,
        [
            (first, Reply("later"), Priority.DIGEST),
            (first, Reply("sooner"), Priority.URGENT),
            (second, Reply("other"), Priority.NOTICE),
        ],
    )

    async def claim(holding: tuple[int, ...] = ()) -> list[tuple[str, int, str]]:
        async with runtime.db.transaction() as db:
            due = await due_outbox(db, now=clock(), limit=10, holding=holding)
            leased = await lease_outbox(db, due, now=clock(), lease=SHORT_LEASE)
        return [(row.payload["text"], row.id, token) for row, token in leased]

    async def renew(outbox_id: int, token: str) -> bool:
        async with runtime.db.transaction() as db:
            return await set_outbox_lease(
                db, outbox_id, token=token, until=clock() + SHORT_LEASE, sent_parts=0
            )

    taken = await claim()
    assert [text for text, _, _ in taken] == ["sooner", "other"]  # one each, urgent first
    assert await claim() == []  # both recipients are busy
    clock.advance(minutes=1)  # the leases ran out while the messages waited their turn
    held = tuple(outbox_id for _, outbox_id, _ in taken)
    assert await claim(holding=held) == []  # their sender still has them, and so theirs
    again = await claim()  # another sender takes them over
    assert [(text, outbox_id) for text, outbox_id, _ in again] == [(t, i) for t, i, _ in taken]
    (_, sooner, old_token), (_, _, new_token) = taken[0], again[0]
    assert not await renew(sooner, old_token)  # the first sender may no longer send it
    assert await renew(sooner, new_token)


async def test_parts_already_sent_survive_the_migration_both_ways(
    database: Database, clock: FakeClock
) -> None:
    await downgrade(database, "0006")
    half_sent = {**Reply("Bản tin").to_json(), "sent_parts": 1}
    async with database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO outbox (payload, state, attempts, next_attempt_at, created_at)"
                " VALUES (:payload, 'pending', 1, :now, :now)"
            ).bindparams(bindparam("payload", type_=JSON), bindparam("now", type_=UTCDateTime())),
            {"payload": half_sent, "now": clock()},
        )
    await upgrade(database)
    async with database.transaction() as db:
        (row,) = await db.scalars(select(Outbox))
    assert (row.sent_parts, row.priority, row.lease) == (1, Priority.NOTICE, None)
    assert "sent_parts" not in row.payload
    await downgrade(database, "0006")
    async with database.transaction() as db:
        stored = await db.scalar(select(column("payload", JSON)).select_from(table("outbox")))
    assert stored == half_sent
    await upgrade(database)


@dataclass
class Standby:
    """Another process leads the outbox until `leads` is set (bot/peers.py's Peers)."""

    name: str = "standby"
    leads: bool = False
    alone: bool = False
    alive: frozenset[str] = frozenset({"standby", "leader"})

    def owner_of(self, chat_key: str) -> str:
        """Answers are not sent here: any process will do."""
        return self.name


async def test_a_process_that_does_not_lead_leaves_the_outbox_to_the_one_that_does(
    runtime: Runtime, api: FakeTelegramAPI
) -> None:
    runtime.clock = utc_now
    (officer,) = await officers_on_telegram(runtime, 1)
    await queue(runtime, [(officer, Reply("🚨 Tin khẩn"), Priority.URGENT)])
    peers = Standby()
    async with telegram(runtime, api) as channel:
        sender = OutboxSender(runtime, {"telegram": channel}, peers=peers)
        async with running(sender):
            await asyncio.sleep(1.2)  # two looks at the outbox while another process leads
            assert api.sent_texts(FIRST_CHAT) == []
            peers.leads = True  # the leader died: this one is first alive now
            await api.wait_for(lambda: api.sent_texts(FIRST_CHAT) == ["🚨 Tin khẩn"], 5)
