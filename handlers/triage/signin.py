"""Signing in to the web desk: a one-time link from the bot, then a session per browser.

Links and session cookies are random values kept only as keyed hashes (a copied database opens
nothing); a link is spent by the first browser that posts it, within ten minutes; a session
ends after idle time, after a working day, at sign-out, and at once when the officer is revoked.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.types import Context, Reply
from handlers.conversation.turn import Turn
from storage.audit import add_audit
from storage.desk import (
    add_desk_link,
    add_desk_session,
    end_desk_sessions,
    get_desk_session,
    set_desk_session_seen,
    use_desk_link,
)
from storage.models import Officer
from storage.officers import get_officer

LINK_LIFETIME = timedelta(minutes=10)
IDLE_LIMIT = timedelta(minutes=30)
LONGEST_SESSION = timedelta(hours=12)
# How stale `seen_at` may get before a request writes it again: not one write per page.
SEEN_EVERY = timedelta(minutes=1)
SIGN_IN_PATH = "/desk/in/"


@dataclass(frozen=True, slots=True)
class DeskUser:
    """The officer a browser is signed in as, for one request, with the form token it must send."""

    officer: Officer
    session_id: int
    form_token: str

    def form_token_matches(self, sent: str) -> bool:
        """Whether a form carried this session's token (compared in constant time)."""
        return hmac.compare_digest(self.form_token.encode(), sent.encode())


def _hash(ctx: Context, purpose: str, token: str) -> str:
    # Sealer.digest upper-cases what it hashes (made for typed codes); the tokens are hex,
    # so nothing is lost.
    return ctx.sealer.digest(purpose, token)


async def new_sign_in_link(db: AsyncSession, ctx: Context, officer: Officer) -> str:
    """A link that signs this officer in once, in the next ten minutes."""
    token = secrets.token_hex(32)
    await add_desk_link(
        db,
        token_hash=_hash(ctx, "desk-link", token),
        officer_id=officer.id,
        now=ctx.now,
        expires_at=ctx.now + LINK_LIFETIME,
    )
    await add_audit(db, officer_id=officer.id, action="desk_link", now=ctx.now)
    return f"{ctx.desk_url}{SIGN_IN_PATH}{token}"


async def desk_command(turn: Turn) -> list[Reply]:
    """/desk: a one-time link to the web desk, or why there is none."""
    assert turn.officer is not None
    if not turn.ctx.desk_url:
        return [turn.say("desk.not_served")]
    link = await new_sign_in_link(turn.db, turn.ctx, turn.officer)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    return [turn.say("desk.link", link=link, minutes=minutes)]


async def sign_in(db: AsyncSession, ctx: Context, link_token: str) -> tuple[str, Officer] | None:
    """Spend a link: a new session's cookie value and its officer; None for a link that is
    unknown, used, expired, or an officer's who was revoked since."""
    if not _looks_like_token(link_token):
        return None
    officer_id = await use_desk_link(
        db, token_hash=_hash(ctx, "desk-link", link_token), now=ctx.now
    )
    officer = await get_officer(db, officer_id) if officer_id is not None else None
    if officer is None or officer.revoked_at is not None:
        return None
    cookie = secrets.token_hex(32)
    token_hash = _hash(ctx, "desk-session", cookie)
    await add_desk_session(db, token_hash=token_hash, officer_id=officer.id, now=ctx.now)
    await add_audit(db, officer_id=officer.id, action="desk_sign_in", now=ctx.now)
    return cookie, officer


async def signed_in(db: AsyncSession, ctx: Context, cookie: str) -> DeskUser | None:
    """Who this cookie signs in, if its session is still open: not ended, not idle too long,
    not older than a working day, its officer not revoked."""
    if not _looks_like_token(cookie):
        return None
    session = await get_desk_session(db, _hash(ctx, "desk-session", cookie))
    if session is None:
        return None
    if ctx.now - session.seen_at > IDLE_LIMIT or ctx.now - session.created_at > LONGEST_SESSION:
        await end_desk_sessions(db, now=ctx.now, session_id=session.id)
        return None
    officer = await get_officer(db, session.officer_id)
    if officer is None or officer.revoked_at is not None:
        await end_desk_sessions(db, now=ctx.now, officer_id=session.officer_id)
        return None
    if ctx.now - session.seen_at > SEEN_EVERY:
        await set_desk_session_seen(db, session.id, now=ctx.now)
    form_token = _hash(ctx, "desk-form", cookie)[:40]
    return DeskUser(officer, session.id, form_token)


async def sign_out(db: AsyncSession, ctx: Context, user: DeskUser) -> None:
    """End this browser's session."""
    await end_desk_sessions(db, now=ctx.now, session_id=user.session_id)
    await add_audit(db, officer_id=user.officer.id, action="desk_sign_out", now=ctx.now)


def _looks_like_token(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
