"""Conversation state per pseudonymous sender, and the housekeeping of expired drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import Conversation

IDLE = "idle"


async def get_conversation(
    db: AsyncSession, *, channel: str, sender: str, language: str, now: datetime
) -> Conversation:
    """The sender's conversation row, created idle on first contact."""
    row = await db.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.sender == sender)
    )
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
    """Move the conversation to a step with a draft (a new dict, so the JSON column sees it)."""
    row.step = step
    row.draft = dict(draft)
    row.updated_at = now
    await db.flush()


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
