"""The processes sharing one database: who is alive, by the beats each one records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import BotProcess


async def enter_process(db: AsyncSession, *, name: str, incarnation: str, now: datetime) -> None:
    """Record a process as started (a restart takes its own name back)."""
    found = await db.get(BotProcess, name)
    if found is None:
        db.add(BotProcess(name=name, incarnation=incarnation, started_at=now, seen_at=now))
    else:
        found.incarnation, found.started_at, found.seen_at = incarnation, now, now
    await db.flush()


async def beat_process(db: AsyncSession, *, name: str, incarnation: str, now: datetime) -> bool:
    """Record that a process is still alive; False if another took its name since."""
    statement = (
        update(BotProcess)
        .where(BotProcess.name == name, BotProcess.incarnation == incarnation)
        .values(seen_at=now)
    )
    return affected(await db.execute(statement)) == 1


async def alive_processes(db: AsyncSession, *, seen_since: datetime) -> set[str]:
    """The names of the processes that beat since `seen_since`."""
    statement = select(BotProcess.name).where(BotProcess.seen_at >= seen_since)
    return set(await db.scalars(statement))


async def leave_process(db: AsyncSession, *, name: str, incarnation: str) -> None:
    """Forget a process that stopped cleanly."""
    await db.execute(
        delete(BotProcess).where(BotProcess.name == name, BotProcess.incarnation == incarnation)
    )
