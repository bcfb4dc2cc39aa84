"""Which secret key a database was made with: recorded by the first command, checked by all."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Plain, plain_execute, plain_scalar
from storage.models import UTCDateTime

# Several processes may start on a new database at once: the first row wins, and each then
# compares its own key with the one row there is.
_RECORD = Plain(
    text(
        "INSERT INTO key_check (id, digest, created_at) VALUES (1, :digest, :now) "
        "ON CONFLICT (id) DO NOTHING"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
)
_RECORDED = Plain(text("SELECT digest FROM key_check WHERE id = 1"))


async def same_key(db: AsyncSession, *, digest: str, now: datetime) -> bool:
    """Whether the database was made with the key whose keyed hash is `digest`; the first
    call on a database records it."""
    await plain_execute(db, _RECORD, {"digest": digest, "now": now})
    recorded = await plain_scalar(db, _RECORDED, {})
    return hmac.compare_digest(str(recorded), digest)
