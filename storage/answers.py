"""Durable answers: what an update committed to say to its chat, until the platform took it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate, Update

from storage.db import Plain, affected, one_of, plain_rows, plain_scalar
from storage.models import PendingAnswer

_answers = cast(Table, PendingAnswer.__table__)
# Every update with replies writes one and deletes it once sent: both plain (storage/db.py).
# Public for storage/updates.py, which writes it together with the conversation's move.
ADD_ANSWER = (
    insert(_answers)
    .values({c.name: bindparam(c.name) for c in _answers.c if c.name != "id"})
    .returning(_answers.c.id)
)
_ADD = Plain(ADD_ANSWER)


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """Where an answer is kept and who delivers it."""

    channel: str
    chat_key: str
    owner: str
    queued: bool  # the owner has it in hand already (it handled the update itself)


@dataclass(frozen=True, slots=True)
class NewAnswer:
    """An update's sealed answer, about to be kept."""

    key: str
    row: AnswerRow
    box: bytes
    now: datetime

    def values(self) -> dict[str, object]:
        """ADD_ANSWER's values."""
        return {
            "key": self.key,
            "channel": self.row.channel,
            "chat_key": self.row.chat_key,
            "owner": self.row.owner,
            "queued": self.row.queued,
            "box": self.box,
            "sent_parts": 0,
            "created_at": self.now,
        }


async def add_answer(db: AsyncSession, answer: NewAnswer) -> int:
    """Keep an update's sealed answer in its transaction; returns its id."""
    return int(await plain_scalar(db, _ADD, answer.values()))


async def remove_answers(db: AsyncSession, answer_ids: list[int]) -> None:
    """Forget answers the platform took (or refused for good)."""
    await db.execute(delete(PendingAnswer).where(one_of(db, PendingAnswer.id, answer_ids)))


async def set_answer_progress(db: AsyncSession, answer_id: int, *, sent_parts: int) -> None:
    """Remember how many of an answer's parts went out, so a restart does not repeat them."""
    statement = update(PendingAnswer).where(PendingAnswer.id == answer_id)
    await db.execute(statement.values(sent_parts=sent_parts))


# An answer as stored: its id, update key, sealed box, and the parts already sent.
Kept = tuple[int, str, bytes, int]


async def take_answers(
    db: AsyncSession, *, channel: str, owner: str, new_only: bool, chat_key: str | None = None
) -> list[Kept]:
    """The answers a process delivers on a channel (to one chat,
    with `chat_key`), marked as in its hands, oldest first: the ones not yet in them, or (at
    its start) all of them."""
    if chat_key is not None and new_only:
        params = {"channel": channel, "owner": owner, "chat_key": chat_key}
        return sorted(cast(Kept, row) for row in await plain_rows(db, _TAKE_CHATS, params))
    # On the updated table itself, so that a row changed meanwhile is checked again.
    wanted = [PendingAnswer.channel == channel, PendingAnswer.owner == owner]
    if new_only:
        wanted.append(PendingAnswer.queued.is_(False))
    if chat_key is not None:
        wanted.append(PendingAnswer.chat_key == chat_key)
    else:
        # Taking every chat's: rows an update of this process is taking for its own chat
        # right now are left to it (it delivers them first), and waiting for them while
        # that update's group waits for rows taken here would be a deadlock.
        free = select(PendingAnswer.id).where(*wanted).with_for_update(skip_locked=True)
        wanted.append(PendingAnswer.id.in_(free.scalar_subquery()))
    returning = _taking(update(PendingAnswer).where(*wanted))
    rows = [(id_, key, box, sent) for id_, key, box, sent in await db.execute(returning)]
    return sorted(rows)


def _taking(statement: Update) -> ReturningUpdate[tuple[int, str, bytes, int]]:
    return statement.values(queued=true()).returning(
        PendingAnswer.id, PendingAnswer.key, PendingAnswer.box, PendingAnswer.sent_parts
    )


# With other processes alive, every update its chat's process handles runs this one.
_TAKE_CHATS = Plain(
    _taking(
        update(PendingAnswer).where(
            PendingAnswer.channel == bindparam("channel"),
            PendingAnswer.owner == bindparam("owner"),
            PendingAnswer.queued.is_(False),
            PendingAnswer.chat_key == bindparam("chat_key"),
        )
    )
)


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


async def reassign_answer(db: AsyncSession, answer_id: int, *, was: str | None, owner: str) -> bool:
    """Give an answer of a process that died to `owner`, unless another process did first."""
    statement = (
        update(PendingAnswer)
        .where(PendingAnswer.id == answer_id, PendingAnswer.owner.is_not_distinct_from(was))
        .values(owner=owner, queued=False)
    )
    return affected(await db.execute(statement)) == 1
