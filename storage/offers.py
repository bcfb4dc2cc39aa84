"""The numbered choices each chat without buttons was last offered, shared by the processes."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, affected, plain_execute, plain_scalar
from storage.models import OfferedChoices, UTCDateTime

# Written out for the same reason as the update claim (storage/guards.py).
_OFFER = Plain(
    text(
        "INSERT INTO offered_choices (chat_key, options, updated_at) "
        "VALUES (:chat_key, :options, :now) "
        "ON CONFLICT (chat_key) DO UPDATE SET options = excluded.options, "
        "updated_at = excluded.updated_at"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
)
_WITHDRAW = Plain(text("DELETE FROM offered_choices WHERE chat_key = :chat_key"))
_OFFERED = Plain(
    select(OfferedChoices.options).where(OfferedChoices.chat_key == bindparam("chat_key"))
)

Choice = tuple[str, str]  # (label, data)


async def set_offered(
    db: AsyncSession, *, chat_key: str, choices: list[Choice], now: datetime
) -> None:
    """Remember what a chat is offered now; none: it has nothing to choose."""
    if not choices:
        await plain_execute(db, _WITHDRAW, {"chat_key": chat_key})
        return
    values = {"chat_key": chat_key, "options": json.dumps(choices), "now": now}
    await plain_execute(db, _OFFER, values)


async def get_offered(db: AsyncSession, *, chat_key: str) -> list[Choice]:
    """What a chat was last offered, by whichever process."""
    found = await plain_scalar(db, _OFFERED, {"chat_key": chat_key})
    return [] if found is None else [(label, data) for label, data in json.loads(found)]


async def prune_offered(db: AsyncSession, *, older_than: datetime) -> int:
    """Forget choices nobody answered for long: the question is asked again anyway."""
    statement = delete(OfferedChoices).where(OfferedChoices.updated_at < older_than)
    return affected(await db.execute(statement))
