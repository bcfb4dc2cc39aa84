"""Durable answers: what an update committed to say to its chat, until the platform took it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_execute, plain_scalar
from storage.models import PendingAnswer

_answers = cast(Table, PendingAnswer.__table__)
# Every update with replies writes one and deletes it once sent: both plain (storage/db.py).
_ADD = Plain(
    insert(_answers)
    .values({c.name: bindparam(c.name) for c in _answers.c if c.name != "id"})
    .returning(_answers.c.id)
)
_REMOVE = Plain(delete(_answers).where(_answers.c.id == bindparam("id")))


async def add_answer(db: AsyncSession, *, key: str, channel: str, box: bytes, now: datetime) -> int:
    """Keep an update's sealed answer in its transaction; returns its id."""
    values = {"key": key, "channel": channel, "box": box, "sent_parts": 0, "created_at": now}
    return int(await plain_scalar(db, _ADD, values))


async def remove_answer(db: AsyncSession, answer_id: int) -> None:
    """Forget an answer the platform took (or refused for good)."""
    await plain_execute(db, _REMOVE, {"id": answer_id})


async def set_answer_progress(db: AsyncSession, answer_id: int, *, sent_parts: int) -> None:
    """Remember how many of an answer's parts went out, so a restart does not repeat them."""
    statement = update(PendingAnswer).where(PendingAnswer.id == answer_id)
    await db.execute(statement.values(sent_parts=sent_parts))


async def list_answers(db: AsyncSession, *, channel: str) -> list[PendingAnswer]:
    """The answers a channel still owes, oldest first (the order they were committed in)."""
    statement = select(PendingAnswer).where(PendingAnswer.channel == channel)
    return list(await db.scalars(statement.order_by(PendingAnswer.id)))
