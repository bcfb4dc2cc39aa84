"""Conversation state per pseudonymous sender, and the housekeeping of expired drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.db import affected
from storage.models import Conversation

IDLE = "idle"


# Built once: every update runs these, and building the statement costs more than running it.
_BY_SENDER = select(Conversation).where(
    Conversation.channel == bindparam("channel"), Conversation.sender == bindparam("sender")
)
_table = cast(Table, Conversation.__table__)
_MOVE = (
    update(_table)
    .where(_table.c.id == bindparam("conversation_id"))
    .values(step=bindparam("step"), draft=bindparam("draft"), updated_at=bindparam("now"))
)


async def find_conversation(db: AsyncSession, *, channel: str, sender: str) -> Conversation | None:
    """The sender's conversation row, if they have one (nothing is created)."""
    row: Conversation | None = await db.scalar(_BY_SENDER, {"channel": channel, "sender": sender})
    return row


async def get_conversation(
    db: AsyncSession, *, channel: str, sender: str, language: str, now: datetime
) -> Conversation:
    """The sender's conversation row, created idle on first contact."""
    row = await find_conversation(db, channel=channel, sender=sender)
    if row is None:
        row = Conversation(
            channel=channel, sender=sender, language=language, step=IDLE, draft={}, updated_at=now
        )
        db.add(row)
        await db.flush()
    return row


async def set_conversation(
    db: AsyncSession, row: Conversation, *, step: str, draft: dict[str, Any], now: datetime
) -> None:
    """Move the conversation to a step with a draft, written at once."""
    draft = dict(draft)
    values = {"conversation_id": row.id, "step": step, "draft": draft, "now": now}
    await db.execute(_MOVE, values)
    # The row object learns the new values as already stored, so the commit does not
    # write them a second time (a plain UPDATE costs a third of a unit-of-work flush).
    for name, value in (("step", step), ("draft", draft), ("updated_at", now)):
        set_committed_value(row, name, value)


async def clear_stale_drafts(db: AsyncSession, *, older_than: datetime) -> int:
    """Drop the drafts nobody touched since `older_than`; returns how many were dropped."""
    result = await db.execute(
        update(Conversation)
        .where(Conversation.updated_at < older_than, Conversation.step != IDLE)
        .values(step=IDLE, draft={})
    )
    return affected(result)


async def delete_dormant_conversations(db: AsyncSession, *, older_than: datetime) -> int:
    """Forget idle senders not seen since `older_than` (their language choice goes with them)."""
    result = await db.execute(
        delete(Conversation).where(Conversation.updated_at < older_than, Conversation.step == IDLE)
    )
    return affected(result)
