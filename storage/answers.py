"""Durable answers: what an update committed to say to its chat, until the platform took it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_scalar
from storage.models import PendingAnswer

_answers = cast(Table, PendingAnswer.__table__)
# Every update with replies writes one and deletes it once sent: both plain (storage/db.py).
_ADD = Plain(
    insert(_answers)
    .values({c.name: bindparam(c.name) for c in _answers.c if c.name != "id"})
    .returning(_answers.c.id)
)


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """Where an answer is kept and who delivers it."""

    channel: str
    chat_key: str
    owner: str


async def add_answer(
    db: AsyncSession, *, key: str, row: AnswerRow, box: bytes, now: datetime
) -> int:
    """Keep an update's sealed answer in its transaction; returns its id."""
    values = {
        "key": key,
        "channel": row.channel,
        "chat_key": row.chat_key,
        "owner": row.owner,
        "box": box,
        "sent_parts": 0,
        "created_at": now,
    }
    return int(await plain_scalar(db, _ADD, values))


async def remove_answers(db: AsyncSession, answer_ids: list[int]) -> None:
    """Forget answers the platform took (or refused for good)."""
    await db.execute(delete(PendingAnswer).where(PendingAnswer.id.in_(answer_ids)))


async def set_answer_progress(db: AsyncSession, answer_id: int, *, sent_parts: int) -> None:
    """Remember how many of an answer's parts went out, so a restart does not repeat them."""
    statement = update(PendingAnswer).where(PendingAnswer.id == answer_id)
    await db.execute(statement.values(sent_parts=sent_parts))


async def list_answers(db: AsyncSession, *, channel: str, owner: str) -> list[PendingAnswer]:
    """The answers a process still owes on a channel, oldest first (their commit order)."""
    statement = select(PendingAnswer).where(
        PendingAnswer.channel == channel, PendingAnswer.owner == owner
    )
    return list(await db.scalars(statement.order_by(PendingAnswer.id)))


async def earlier_answers(
    db: AsyncSession, *, row: AnswerRow, before: int
) -> list[tuple[int, str | None]]:
    """(id, owner) of the chat's answers committed before `before` that others deliver."""
    statement = select(PendingAnswer.id, PendingAnswer.owner).where(
        PendingAnswer.channel == row.channel,
        PendingAnswer.chat_key == row.chat_key,
        PendingAnswer.id < before,
        PendingAnswer.owner.is_distinct_from(row.owner),
    )
    return [(id_, owner) for id_, owner in await db.execute(statement.order_by(PendingAnswer.id))]


async def orphaned_answers(
    db: AsyncSession, *, channel: str, alive: set[str]
) -> list[tuple[int, str | None, str | None]]:
    """(id, owner, chat key) of a channel's answers whose process is no longer alive."""
    statement = select(PendingAnswer.id, PendingAnswer.owner, PendingAnswer.chat_key).where(
        PendingAnswer.channel == channel,
        or_(PendingAnswer.owner.is_(None), PendingAnswer.owner.not_in(alive)),
    )
    rows = await db.execute(statement.order_by(PendingAnswer.id))
    return [(id_, owner, chat_key) for id_, owner, chat_key in rows]


async def adopt_answer(
    db: AsyncSession, answer_id: int, *, was: str | None, owner: str
) -> PendingAnswer | None:
    """Take over an answer from a process that died, unless another took it first."""
    statement = (
        update(PendingAnswer)
        .where(PendingAnswer.id == answer_id, PendingAnswer.owner.is_not_distinct_from(was))
        .values(owner=owner)
        .returning(PendingAnswer)
    )
    return (await db.scalars(statement)).one_or_none()
