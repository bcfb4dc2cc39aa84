"""The web desk's sign-in: one-time links and browser sessions, both kept as keyed hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import DeskLink, DeskSession


async def add_desk_link(
    db: AsyncSession, *, token_hash: str, officer_id: int, now: datetime, expires_at: datetime
) -> None:
    """Keep a new sign-in link's hash until it is used or runs out."""
    db.add(
        DeskLink(
            token_hash=token_hash, officer_id=officer_id, created_at=now, expires_at=expires_at
        )
    )
    await db.flush()


async def use_desk_link(db: AsyncSession, *, token_hash: str, now: datetime) -> int | None:
    """Spend a link, once: its officer's id, or None if it is unknown, used or expired.

    One UPDATE decides, so two browsers (or two processes) opening one link never both sign in.
    """
    spent = await db.execute(
        update(DeskLink)
        .where(
            DeskLink.token_hash == token_hash,
            DeskLink.used_at.is_(None),
            DeskLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(DeskLink.officer_id)
    )
    officer_id = spent.scalar_one_or_none()
    return None if officer_id is None else int(officer_id)


async def add_desk_session(
    db: AsyncSession, *, token_hash: str, officer_id: int, now: datetime
) -> DeskSession:
    """Open a session for a browser that spent a link."""
    session = DeskSession(token_hash=token_hash, officer_id=officer_id, created_at=now, seen_at=now)
    db.add(session)
    await db.flush()
    return session


async def get_desk_session(db: AsyncSession, token_hash: str) -> DeskSession | None:
    """The open session a cookie names; None when unknown or ended."""
    found = await db.scalars(
        select(DeskSession).where(
            DeskSession.token_hash == token_hash, DeskSession.ended_at.is_(None)
        )
    )
    return found.first()


async def set_desk_session_seen(db: AsyncSession, session_id: int, *, now: datetime) -> None:
    """Note that the session was used now (its idle time starts again)."""
    await db.execute(update(DeskSession).where(DeskSession.id == session_id).values(seen_at=now))


async def end_desk_sessions(
    db: AsyncSession, *, now: datetime, session_id: int | None = None, officer_id: int | None = None
) -> int:
    """End one session, or every open session of an officer; returns how many ended."""
    statement = update(DeskSession).where(DeskSession.ended_at.is_(None))
    if session_id is not None:
        statement = statement.where(DeskSession.id == session_id)
    if officer_id is not None:
        statement = statement.where(DeskSession.officer_id == officer_id)
    return affected(await db.execute(statement.values(ended_at=now)))
