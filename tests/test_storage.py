"""Storage on SQLite and PostgreSQL: migrations, idempotence, rate windows, outbox, housekeeping."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import OperationalError

from bot.channels.base import DeliveryError, Part
from bot.outbox import OutboxSender
from bot.runtime import Runtime
from bot.scheduler import run_housekeeping
from handlers.common.codes import parse_code
from handlers.common.notices import change_status
from handlers.common.types import Reply
from handlers.tips.passphrases import BATCH
from storage import inline_sqlite
from storage.db import Database
from storage.guards import claim_update, count_action
from storage.migrate import downgrade, upgrade
from storage.models import (
    SEALED_PASSPHRASE_WHERE,
    Base,
    Contact,
    Conversation,
    Outbox,
    OutboxState,
    Tip,
    TipStatus,
    modelled,
)
from storage.offers import get_offered, set_offered
from storage.tips import get_tip
from tests.conftest import FakeClock, Person, file_minimal_tip


async def table_names(db: Database) -> set[str]:
    return set(await db.run_on_connection(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_go_down_and_up_again(database: Database) -> None:
    assert {"tip", "tip_event", "contact", "outbox", "conversation"} <= await table_names(database)
    await downgrade(database, "base")
    assert await table_names(database) <= {"alembic_version"}
    await upgrade(database)
    assert "tip" in await table_names(database)


async def test_migrations_build_exactly_the_models(database: Database) -> None:
    def differences(sync: Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"include_name": modelled})
        return list(compare_metadata(context, Base.metadata))

    assert await database.run_on_connection(differences) == []


async def test_claim_update_is_true_once(database: Database, clock: FakeClock) -> None:
    async with database.transaction() as db:
        assert await claim_update(db, key="telegram:1", now=clock())
        assert not await claim_update(db, key="telegram:1", now=clock())
    async with database.transaction() as db:
        assert not await claim_update(db, key="telegram:1", now=clock())
        assert await claim_update(db, key="telegram:2", now=clock())


async def test_rate_windows_count_separately(database: Database, clock: FakeClock) -> None:
    minute = clock().replace(second=0, microsecond=0)
    async with database.transaction() as db:
        counts = [
            await count_action(db, sender="s", action="message", window_start=minute)
            for _ in range(3)
        ]
        other = await count_action(
            db, sender="s", action="message", window_start=minute + timedelta(minutes=1)
        )
    assert counts == [1, 2, 3] and other == 1


async def test_rollback_leaves_nothing(database: Database, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as db:
            await claim_update(db, key="telegram:9", now=clock())
            raise RuntimeError("handler failed")
    async with database.transaction() as db:
        assert await claim_update(db, key="telegram:9", now=clock())


class RecordingSender:
    """A channel that records deliveries, failing on demand."""

    name = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.failures: list[DeliveryError] = []

    def parts(self, chat: str, reply: Reply) -> list[Part]:
        async def record() -> None:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append((chat, reply))

        return [record]


async def set_status(runtime: Runtime, code: str, status: TipStatus) -> None:
    async with runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        await change_status(db, runtime.context(), tip, status=status)


async def outbox_rows(runtime: Runtime) -> list[Outbox]:
    async with runtime.db.transaction() as db:
        return list(await db.scalars(select(Outbox).order_by(Outbox.id)))


async def test_status_change_reaches_a_contactable_tipster_through_the_outbox(
    person: Person, clock: FakeClock
) -> None:
    runtime = person.runtime
    code, _ = await file_minimal_tip(person, contact=True)
    await set_status(runtime, code, TipStatus.VERIFYING)
    sender = RecordingSender()
    sender.failures = [DeliveryError("busy", retry_after=30), DeliveryError("network")]
    outbox = OutboxSender(runtime, {"console": sender}, pacers=clock.pacers("console"))
    assert await outbox.run_once() == 1  # rate limited: wait as told
    assert await outbox.run_once() == 0
    clock.advance(seconds=31)
    assert await outbox.run_once() == 1  # network error: back off
    (row,) = await outbox_rows(runtime)
    assert row.state is OutboxState.PENDING and row.attempts == 2
    assert row.next_attempt_at > clock()
    clock.advance(minutes=1)
    assert await outbox.run_once() == 1
    assert sender.sent and sender.sent[0][0] == person.chat
    assert f"Tin báo {code} của bạn có cập nhật: Đang xác minh" in sender.sent[0][1].text
    (row,) = await outbox_rows(runtime)
    assert row.state is OutboxState.SENT and row.sent_at is not None
    assert await outbox.run_once() == 0


async def test_blocked_tipster_is_not_retried(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=True)
    await set_status(person.runtime, code, TipStatus.HANDLED)
    sender = RecordingSender()
    sender.failures = [DeliveryError("blocked", permanent=True)]
    await OutboxSender(person.runtime, {"console": sender}).run_once()
    (row,) = await outbox_rows(person.runtime)
    assert row.state is OutboxState.FAILED and row.last_error == "blocked"


async def test_forget_before_delivery_drops_the_message(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=True)
    await set_status(person.runtime, code, TipStatus.HANDLED)
    await person.send(f"/forget {code}")
    await person.press("Có, xóa")
    sender = RecordingSender()
    assert await OutboxSender(person.runtime, {"console": sender}).run_once() == 0
    (row,) = await outbox_rows(person.runtime)
    assert row.state is OutboxState.DROPPED and not sender.sent


async def test_anonymous_tipster_gets_no_message(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=False)
    await set_status(person.runtime, code, TipStatus.CLOSED_SPAM)
    assert await outbox_rows(person.runtime) == []


async def test_housekeeping_removes_stale_drafts_and_expired_contacts(
    person: Person, clock: FakeClock
) -> None:
    runtime = person.runtime
    await file_minimal_tip(person, contact=True)
    await person.send("/tip")
    await person.press("Ma túy")
    clock.advance(hours=25)
    removed = await run_housekeeping(runtime)
    assert removed["drafts"] == 1 and removed["contacts"] == 0
    clock.advance(days=180)
    removed = await run_housekeeping(runtime)
    assert removed["contacts"] == 1
    async with runtime.db.transaction() as db:
        assert await db.scalar(select(Contact)) is None
        assert await db.scalar(select(Conversation)) is None  # dormant for 30+ days


async def test_offered_choices_are_kept_replaced_withdrawn_and_forgotten_with_the_drafts(
    runtime: Runtime, clock: FakeClock
) -> None:
    async with runtime.db.transaction() as db:
        await set_offered(db, chat_key="k1", choices=[("1. Ma túy", "d:cat:drugs")], now=clock())
        await set_offered(db, chat_key="k2", choices=[("Có", "yes")], now=clock())
        await set_offered(db, chat_key="k2", choices=[("Không", "no")], now=clock())
    async with runtime.db.reading() as db:
        assert await get_offered(db, chat_key="k1") == [("1. Ma túy", "d:cat:drugs")]
        assert await get_offered(db, chat_key="k2") == [("Không", "no")]
    async with runtime.db.transaction() as db:
        await set_offered(db, chat_key="k2", choices=[], now=clock())
    clock.advance(hours=runtime.limits.draft_ttl_hours + 1)
    assert (await run_housekeeping(runtime))["offers"] == 1
    async with runtime.db.reading() as db:
        assert await get_offered(db, chat_key="k1") == []


async def test_a_channel_not_served_here_fails_instead_of_looping(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=True)  # a console tipster
    await set_status(person.runtime, code, TipStatus.HANDLED)
    telegram_only = RecordingSender()
    telegram_only.name = "telegram"
    assert await OutboxSender(person.runtime, {"telegram": telegram_only}).run_once() == 1
    (row,) = await outbox_rows(person.runtime)
    assert row.state is OutboxState.FAILED and "console is not served" in str(row.last_error)
    assert not telegram_only.sent


async def test_tips_waiting_for_a_passphrase_hash_are_found_by_their_partial_index(
    database: Database,
) -> None:
    statement = select(Tip.id).where(SEALED_PASSPHRASE_WHERE).order_by(Tip.id).limit(BATCH)
    async with database.reading() as db:
        sql = statement.compile(
            dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        if not database.is_sqlite:
            # Tiny test tables are scanned anyway; forbid that to see what the index offers.
            await db.execute(text("SET LOCAL enable_seqscan = off"))
        explain = "EXPLAIN QUERY PLAN" if database.is_sqlite else "EXPLAIN"
        plan = await db.execute(text(f"{explain} {sql}"))
        assert "ix_tip_sealed_passphrase" in str(plan.all())


async def test_waiting_for_another_process_write_lock_keeps_the_bot_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database)
    other = sqlite3.connect(path, isolation_level=None)  # an operator command, say
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def loop_ticks() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> bool:
        async with database.transaction() as db:
            return await claim_update(db, key="k1", now=FakeClock().now)

    ticking = asyncio.create_task(loop_ticks())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.5)
    assert not writing.done() and ticks >= 20  # waiting, and the loop kept running
    other.execute("COMMIT")
    assert await asyncio.wait_for(writing, 5)

    monkeypatch.setattr(inline_sqlite, "LOCK_WAIT_SECONDS", 0.2)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        await write()  # held for good: it gives up instead of waiting forever
    other.execute("ROLLBACK")
    ticking.cancel()
    other.close()
    await database.dispose()
