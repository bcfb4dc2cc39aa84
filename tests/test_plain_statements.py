"""Plain statements (storage/db.py): compiled by SQLAlchemy, run on the driver's own cursor."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from storage.answers import AnswerRow, NewAnswer
from storage.conversations import (
    _START,
    get_conversation_and_officer,
    move_conversation,
    save_conversation,
)
from storage.db import Database, Plain, plain_execute, plain_rows, plain_scalar
from storage.guards import claim_update
from storage.models import Conversation, Officer, PendingAnswer, TipStatus
from storage.officers import add_officer
from storage.tips import NewTip, add_tip, get_tip
from storage.updates import Started, UpdateStart, end_update_answering, start_update
from tests.conftest import FakeClock

HANOI = timezone(timedelta(hours=7))


async def test_values_are_converted_as_the_orm_converts_them(
    database: Database, clock: FakeClock
) -> None:
    """Dates and drafts written plainly read back the same, plainly and through the ORM."""
    moved_at = clock().astimezone(HANOI) + timedelta(minutes=5, microseconds=123)
    draft: dict[str, Any] = {"category": "drugs", "story": "Có người bán hàng cấm", "n": [1, 2]}
    async with database.transaction() as db:
        conv, officer = await get_conversation_and_officer(
            db, channel="console", sender="s1", chat="c1", language="vi", now=clock()
        )
        assert officer is None
        move_conversation(conv, step="story", draft=draft, now=moved_at)
        await save_conversation(db, conv)
        # The ORM shares the transaction's connection: it sees the plain writes at once.
        row = await db.scalar(select(Conversation).where(Conversation.id == conv.id))
        assert row is not None and row.draft == draft and row.updated_at == moved_at
    async with database.transaction() as db:
        again, _ = await get_conversation_and_officer(
            db, channel="console", sender="s1", chat="c1", language="en", now=clock()
        )
    assert (again.id, again.language, again.step, again.draft) == (conv.id, "vi", "story", draft)
    assert again.updated_at == moved_at and again.updated_at.tzinfo == UTC


async def test_a_plain_statement_sees_what_the_orm_changed_but_did_not_write_yet(
    database: Database, clock: FakeClock
) -> None:
    """An ORM attribute set without a flush is in the transaction before a plain statement."""
    async with database.transaction() as db:
        officer = await add_officer(db, name="An", area=None, is_admin=False, now=clock())
        await db.flush()
        officer.channel, officer.chat = "console", "c7"  # pending in the session, not written
        _, found = await get_conversation_and_officer(
            db, channel="console", sender="s7", chat="c7", language="vi", now=clock()
        )
    assert found == officer.id


async def test_the_officer_of_a_chat_comes_with_the_conversation_first_contact_or_not(
    database: Database, clock: FakeClock
) -> None:
    async with database.transaction() as db:
        officer = await add_officer(db, name="An", area=None, is_admin=False, now=clock())
        officer.channel, officer.chat = "console", "c9"
    for sender in ("new", "new"):  # first contact creates the conversation; then it is read
        async with database.transaction() as db:
            _, found = await get_conversation_and_officer(
                db, channel="console", sender=sender, chat="c9", language="vi", now=clock()
            )
        assert found == officer.id
    async with database.transaction() as db:
        _, elsewhere = await get_conversation_and_officer(
            db, channel="telegram", sender="new", chat="c9", language="vi", now=clock()
        )
        (await db.get(Officer, officer.id)).revoked_at = clock()  # type: ignore[union-attr]
    async with database.transaction() as db:
        _, revoked = await get_conversation_and_officer(
            db, channel="console", sender="new", chat="c9", language="vi", now=clock()
        )
    assert (elsewhere, revoked) == (None, None)


async def test_a_tip_stored_plainly_is_a_tip_of_the_session(
    database: Database, clock: FakeClock
) -> None:
    """A filed tip changed later in its transaction keeps the change; it reads back whole."""
    new = NewTip(
        code="K7M2Q9XP",
        category="drugs",
        area="kien_giang",
        place="chợ",
        latitude=17.21,
        longitude=106.79,
        description="Có người bán hàng cấm",
        occurred="today",
        urgent=True,
        language="vi",
        passphrase_hash="sealed",
        attachments=(("photo", "AgAC-1"), ("voice", "AwAC-2")),
        channel="telegram",
        top_only=True,
    )
    async with database.transaction() as db:
        tip = await add_tip(db, new, now=clock())
        tip.status = TipStatus.VERIFYING  # flushed at the commit, as for any loaded row
    async with database.transaction() as db:
        stored = await get_tip(db, "K7M2Q9XP")
    assert stored is not None and stored.id == tip.id and stored.status is TipStatus.VERIFYING
    assert (stored.latitude, stored.top_only, stored.created_at) == (17.21, True, clock())
    assert [(a.position, a.kind, a.ref, a.channel) for a in stored.attachments] == [
        (0, "photo", "AgAC-1", "telegram"),
        (1, "voice", "AwAC-2", "telegram"),
    ]
    assert [event.status for event in stored.events] == [TipStatus.RECEIVED]


async def test_a_failing_plain_statement_raises_as_sqlalchemy_does(
    database: Database, clock: FakeClock
) -> None:
    """A broken constraint is SQLAlchemy's IntegrityError, without the values, and nothing stays."""
    values = {
        "channel": "console",
        "sender": "s1",
        "language": "vi",
        "step": "idle",
        "draft": {"story": "Nguyễn Văn A, 0912 345 678"},
        "updated_at": clock(),
    }
    with pytest.raises(IntegrityError) as raised:
        async with database.transaction() as db:
            assert await claim_update(db, key="console:1", now=clock())
            await plain_scalar(db, _START, values)
            await plain_scalar(db, _START, values)
    # The error is logged whole: what a tipster wrote must not be in it.
    assert "0912" not in str(raised.value) and "Nguy" not in str(raised.value)
    async with database.transaction() as db:
        assert await claim_update(db, key="console:1", now=clock())


async def test_an_updates_statements_skip_sqlalchemys_greenlet(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the inline SQLite writer no plain statement passes through run_sync; on PostgreSQL
    only the first, which begins the transaction, and the rest go to asyncpg alone."""
    calls: list[object] = []
    async with database.transaction() as db:
        real = db.run_sync

        async def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(args[0])
            return await real(*args, **kwargs)

        monkeypatch.setattr(db, "run_sync", counted)
        assert await claim_update(db, key="console:1", now=clock())
        conv, _ = await get_conversation_and_officer(
            db, channel="console", sender="s1", chat="c1", language="vi", now=clock()
        )
        move_conversation(conv, step="story", draft={"a": 1}, now=clock())
        await save_conversation(db, conv)
        assert await plain_execute(db, _RENAME_STEP, {"step": "idle", "sender": "s1"}) == 1
        assert await plain_execute(db, _RENAME_STEP, {"step": "idle", "sender": "s2"}) == 0
        assert await plain_rows(db, _STEPS, {}) == [("idle",)]
    assert len(calls) == (0 if database.is_sqlite else 1)


async def test_plain_statements_commit_and_roll_back_with_the_session(
    database: Database, clock: FakeClock
) -> None:
    """What plain statements wrote is undone with the rest when the unit of work fails."""
    with pytest.raises(RuntimeError, match="handler failed"):
        async with database.transaction() as db:
            assert await claim_update(db, key="console:1", now=clock())
            assert await claim_update(db, key="console:2", now=clock())
            raise RuntimeError("handler failed")
    async with database.transaction() as db:
        assert await claim_update(db, key="console:2", now=clock())
        assert await claim_update(db, key="console:1", now=clock())
    async with database.transaction() as db:
        assert not await claim_update(db, key="console:1", now=clock())
        assert not await claim_update(db, key="console:2", now=clock())


_RENAME_STEP = Plain(
    update(Conversation)
    .where(Conversation.sender == bindparam("sender"))
    .values(step=bindparam("step"))
)
_STEPS = Plain(select(Conversation.step))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()])  # type: ignore[no-untyped-call]
def test_statements_that_need_sqlalchemys_execution_are_refused(dialect: Any) -> None:
    """A default computed in Python or a list parameter fails when compiled, not in production."""
    table = cast(Table, Officer.__table__)
    defaulted = Plain(insert(table).values(name=bindparam("name")))  # is_admin's default, etc.
    with pytest.raises(ValueError, match="state every value"):
        defaulted.compiled(dialect)
    listed = Plain(select(table.c.id).where(table.c.area.in_(bindparam("areas", expanding=True))))
    with pytest.raises(ValueError, match="plain values"):
        listed.compiled(dialect)


async def test_an_update_starts_and_ends_in_few_statements_and_loses_nothing(
    database: Database, clock: FakeClock
) -> None:
    """Claim, count and read in one; the move rides with the kept answer; all of it lands."""

    def start(key: str, *, private: bool = True) -> UpdateStart:
        return UpdateStart(key, "console", "s1", "c1", private, clock())

    async with database.transaction() as db:
        first = await start_update(db, start("console:1"))
        assert first is not None and first.conversation is not None and first.sent == 1
        move_conversation(first.conversation, step="story", draft={"a": 1}, now=clock())
        row = AnswerRow("console", "chat", "me", queued=True)
        kept = await end_update_answering(
            db, first.conversation, NewAnswer("console:1", row, b"box", clock())
        )
    async with database.transaction() as db:
        assert await start_update(db, start("console:1")) is None  # a redelivery
        in_group = await start_update(db, start("console:2", private=False))
        assert in_group == Started(0, None, None)  # outside a private chat: nothing counted
        second = await start_update(db, start("console:3"))
        assert second is not None and second.conversation is not None
        assert (second.sent, second.conversation.step, second.conversation.draft) == (
            2,
            "story",
            {"a": 1},
        )
        answer = await db.scalar(select(PendingAnswer.key).where(PendingAnswer.id == kept))
        assert answer == "console:1"
