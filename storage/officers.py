"""Officers and their one-time invites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AlertLevel, Invite, Officer


async def add_officer(
    db: AsyncSession, *, name: str, area: str | None, is_admin: bool, now: datetime
) -> Officer:
    """A new officer, not yet linked to any chat."""
    officer = Officer(
        name=name,
        area=area,
        is_admin=is_admin,
        language="vi",
        alerts=AlertLevel.URGENT,
        created_at=now,
    )
    db.add(officer)
    await db.flush()
    return officer


async def add_invite(
    db: AsyncSession,
    *,
    officer_id: int,
    code_hash: str,
    expires_at: datetime,
    created_by_id: int | None,
    now: datetime,
) -> Invite:
    """Keep the hash of a one-time enrolment code."""
    invite = Invite(
        officer_id=officer_id,
        code_hash=code_hash,
        expires_at=expires_at,
        created_by_id=created_by_id,
        created_at=now,
    )
    db.add(invite)
    await db.flush()
    return invite


async def get_invite(db: AsyncSession, code_hash: str) -> Invite | None:
    """The invite with this code hash, used or not."""
    invite: Invite | None = await db.scalar(select(Invite).where(Invite.code_hash == code_hash))
    return invite


async def get_officer(db: AsyncSession, officer_id: int) -> Officer | None:
    """An officer by id, revoked or not."""
    return await db.get(Officer, officer_id)


async def officer_names(db: AsyncSession, officer_ids: set[int]) -> dict[int, str]:
    """The names of officers known by their row ids, in one query for a whole list."""
    if not officer_ids:
        return {}
    rows = await db.execute(select(Officer.id, Officer.name).where(Officer.id.in_(officer_ids)))
    return dict(rows.tuples().all())


async def list_officers(db: AsyncSession, *, active_only: bool = False) -> list[Officer]:
    """Officers by id; `active_only` keeps enrolled, unrevoked ones."""
    statement = select(Officer).order_by(Officer.id)
    if active_only:
        statement = statement.where(Officer.revoked_at.is_(None), Officer.chat.is_not(None))
    return list(await db.scalars(statement))


async def enrol_officer(
    db: AsyncSession, invite: Invite, *, channel: str, chat: str, language: str, now: datetime
) -> Officer:
    """Link the invited officer to this chat and use the invite up."""
    for earlier in await db.scalars(
        select(Officer).where(Officer.channel == channel, Officer.chat == chat)
    ):
        # One chat, one officer: a revoked officer's record lets the chat go (an active one's
        # is refused before, handlers/officers/enrolment.py).
        earlier.chat = None
    officer = invite.officer
    officer.channel, officer.chat, officer.language = channel, chat, language
    officer.enrolled_at = now
    invite.used_at = now
    await db.flush()
    return officer


async def set_officer(
    db: AsyncSession,
    officer: Officer,
    *,
    alerts: AlertLevel | None = None,
    language: str | None = None,
    revoked_at: datetime | None = None,
    digest_time: str | None = None,
    digests: bool | None = None,
) -> None:
    """Change an officer's alert level, language, digest time or digest switch, or revoke them."""
    changes = {
        "alerts": alerts,
        "language": language,
        "revoked_at": revoked_at,
        "digest_time": digest_time,
        "digests": digests,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(officer, name, value)
    await db.flush()


# Built once: every new tip runs it, and building it cost more than running it.
_ALERTED = (
    select(Officer)
    .where(
        Officer.revoked_at.is_(None),
        Officer.chat.is_not(None),
        Officer.alerts.in_(bindparam("levels", expanding=True)),
        or_(
            # A NULL area is an officer of the top unit.
            and_(Officer.area.is_(None), bindparam("top", type_=Boolean)),
            Officer.area.in_(bindparam("units", expanding=True)),
        ),
    )
    .order_by(Officer.id)
)


async def list_alert_recipients(
    db: AsyncSession, *, units: Sequence[str], top: bool, urgent: bool
) -> list[Officer]:
    """Active officers of these units (and of the top unit, if `top`) who want an alert."""
    levels = [AlertLevel.ALL, AlertLevel.URGENT] if urgent else [AlertLevel.ALL]
    parameters = {"levels": levels, "units": list(units), "top": top}
    return list(await db.scalars(_ALERTED, parameters))


async def list_officers_covering(db: AsyncSession, units: Sequence[str]) -> list[Officer]:
    """Active officers of these units or of the top unit: all who cover an area."""
    statement = select(Officer).where(
        Officer.revoked_at.is_(None),
        Officer.chat.is_not(None),
        or_(Officer.area.is_(None), Officer.area.in_(units)),
    )
    return list(await db.scalars(statement.order_by(Officer.id)))


async def set_reachable(
    db: AsyncSession, officer_id: int, *, reason: str | None, now: datetime
) -> None:
    """Mark an officer unreachable (the platform refused for good), or reachable again."""
    officer = await db.get(Officer, officer_id)
    if officer is None:
        return
    officer.unreachable_at = now if reason else None
    officer.unreachable_reason = reason[:40] if reason else None
    await db.flush()
