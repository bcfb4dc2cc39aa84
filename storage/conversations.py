"""Conversation state per pseudonymous sender, and the housekeeping of expired drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, affected, plain_execute, plain_row, plain_scalar
from storage.models import Conversation, Officer

IDLE = "idle"


@dataclass(slots=True)
class ConversationState:
    """Where one sender is: read at the start of an update, written back at its end."""

    id: int
    language: str
    step: str
    draft: dict[str, Any]
    updated_at: datetime
    moved: bool = False  # moved since read, not yet written (storage/updates.py writes it)


# Plain rows, not ORM objects, and statements built once: every update reads and moves its
# conversation, and the ORM's loading and building cost more than the SQL itself.
_table = cast(Table, Conversation.__table__)
_COLUMNS = (_table.c.id, _table.c.language, _table.c.step, _table.c.draft, _table.c.updated_at)
_BY_SENDER = Plain(
    select(*_COLUMNS).where(
        _table.c.channel == bindparam("channel"), _table.c.sender == bindparam("sender")
    )
)
# The same, and the officer enrolled from the sender's chat (if any) in one round trip: every
# update needs both. From a one-row select, so that a first contact still learns the officer.
_officer = cast(Table, Officer.__table__)
_OFFICER_OF_CHAT = (
    select(_officer.c.id)
    .where(
        _officer.c.channel == bindparam("channel"),
        _officer.c.chat == bindparam("chat"),
        _officer.c.revoked_at.is_(None),
    )
    .scalar_subquery()
)
_one = select(literal_column("1").label("one")).subquery()
_WITH_OFFICER = Plain(
    select(_OFFICER_OF_CHAT, *_COLUMNS).select_from(
        _one.outerjoin(
            _table,
            (_table.c.channel == bindparam("channel")) & (_table.c.sender == bindparam("sender")),
        )
    )
)
_START = Plain(
    insert(_table)
    .values(
        channel=bindparam("channel"),
        sender=bindparam("sender"),
        language=bindparam("language"),
        step=bindparam("step"),
        draft=bindparam("draft"),
        updated_at=bindparam("updated_at"),
    )
    .returning(_table.c.id)
)
# Public for storage/updates.py, which writes it together with the update's answer.
MOVE_CONVERSATION = (
    update(_table)
    .where(_table.c.id == bindparam("conversation_id"))
    .values(
        language=bindparam("language"),
        step=bindparam("step"),
        draft=bindparam("draft"),
        updated_at=bindparam("now"),
    )
)
_MOVE = Plain(MOVE_CONVERSATION)


async def find_conversation(
    db: AsyncSession, *, channel: str, sender: str
) -> ConversationState | None:
    """The sender's conversation, if they have one (nothing is created)."""
    row = await plain_row(db, _BY_SENDER, {"channel": channel, "sender": sender})
    return None if row is None else ConversationState(*row)


async def get_conversation_and_officer(
    db: AsyncSession, *, channel: str, sender: str, chat: str, language: str, now: datetime
) -> tuple[ConversationState, int | None]:
    """The sender's conversation (created idle on first contact), and the id of the active
    officer enrolled from the chat, if any."""
    values = {"channel": channel, "sender": sender, "chat": chat}
    row = await plain_row(db, _WITH_OFFICER, values)
    officer_id, *conversation = row or (None,)
    if not conversation or conversation[0] is None:
        return await start_conversation(db, channel, sender, language, now), officer_id
    return ConversationState(*conversation), officer_id


async def start_conversation(
    db: AsyncSession, channel: str, sender: str, language: str, now: datetime
) -> ConversationState:
    """A first contact's conversation, idle."""
    values = {
        "channel": channel,
        "sender": sender,
        "language": language,
        "step": IDLE,
        "draft": {},
        "updated_at": now,
    }
    new_id = await plain_scalar(db, _START, values)
    return ConversationState(int(new_id), language, IDLE, {}, now)


def move_conversation(
    conv: ConversationState, *, step: str, draft: dict[str, Any], now: datetime
) -> None:
    """Move the conversation to a step with a draft; written when the update ends."""
    conv.step, conv.draft, conv.updated_at, conv.moved = step, dict(draft), now, True


def move_values(conv: ConversationState) -> dict[str, Any]:
    """MOVE_CONVERSATION's values for a conversation as it now stands."""
    return {
        "conversation_id": conv.id,
        "language": conv.language,
        "step": conv.step,
        "draft": conv.draft,
        "now": conv.updated_at,
    }


async def save_conversation(db: AsyncSession, conv: ConversationState) -> None:
    """Write a moved conversation back (nothing when it did not move)."""
    if conv.moved:
        await plain_execute(db, _MOVE, move_values(conv))
        conv.moved = False


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
