"""Tips, their history, attachments, and the sealed way back to the tipster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.db import affected
from storage.models import Attachment, Contact, Tip, TipEvent, TipStatus


@dataclass(frozen=True, slots=True)
class NewTip:
    """What a finished draft holds, ready to be stored."""

    code: str
    category: str
    area: str
    place: str | None
    latitude: float | None
    longitude: float | None
    description: str
    occurred: str
    urgent: bool
    language: str
    passphrase_hash: str
    attachments: tuple[tuple[str, str], ...]


async def code_exists(db: AsyncSession, code: str) -> bool:
    """Whether a tip code is already taken."""
    return (await db.scalar(select(Tip.id).where(Tip.code == code))) is not None


async def add_tip(db: AsyncSession, new: NewTip, *, now: datetime) -> Tip:
    """Store a tip, its attachments and its first history row ("received")."""
    tip = Tip(
        code=new.code,
        category=new.category,
        area=new.area,
        place=new.place,
        latitude=new.latitude,
        longitude=new.longitude,
        description=new.description,
        occurred=new.occurred,
        urgent=new.urgent,
        language=new.language,
        passphrase_hash=new.passphrase_hash,
        failed_checks=0,
        status=TipStatus.RECEIVED,
        created_at=now,
        attachments=[
            Attachment(position=n, kind=kind, ref=ref)
            for n, (kind, ref) in enumerate(new.attachments)
        ],
        events=[TipEvent(status=TipStatus.RECEIVED, created_at=now)],
    )
    db.add(tip)
    await db.flush()
    return tip


async def get_tip(db: AsyncSession, code: str) -> Tip | None:
    """A tip by its code, with history and attachments loaded."""
    tip: Tip | None = await db.scalar(
        select(Tip)
        .where(Tip.code == code)
        .options(selectinload(Tip.events), selectinload(Tip.attachments))
    )
    return tip


async def get_tip_code(db: AsyncSession, tip_id: int) -> str | None:
    """The code of a tip known by its row id."""
    code: str | None = await db.scalar(select(Tip.code).where(Tip.id == tip_id))
    return code


async def add_tip_event(
    db: AsyncSession,
    tip: Tip,
    *,
    now: datetime,
    status: TipStatus | None = None,
    public_note: str | None = None,
) -> TipEvent:
    """Record a status change and/or a public note; the tip's current status follows it."""
    event = TipEvent(tip_id=tip.id, status=status, public_note=public_note, created_at=now)
    db.add(event)
    if status is not None:
        tip.status = status
    await db.flush()
    return event


async def set_failed_checks(
    db: AsyncSession, tip: Tip, *, failed: int, locked_until: datetime | None
) -> None:
    """Remember wrong passphrases, and lock the tip for a while after too many."""
    tip.failed_checks = failed
    tip.locked_until = locked_until
    await db.flush()


async def add_contact(
    db: AsyncSession, *, tip_id: int, channel: str, sealed: bytes, expires_at: datetime
) -> None:
    """Keep the sealed way back to the tipster until it expires or is forgotten."""
    db.add(Contact(tip_id=tip_id, channel=channel, sealed=sealed, expires_at=expires_at))
    await db.flush()


async def get_contact(db: AsyncSession, tip_id: int) -> Contact | None:
    """The sealed way back to a tip's tipster, if they allowed it and have not withdrawn it."""
    contact: Contact | None = await db.scalar(select(Contact).where(Contact.tip_id == tip_id))
    return contact


async def delete_contact(db: AsyncSession, tip_id: int) -> bool:
    """Destroy the way back to a tipster; True if there was one."""
    result = await db.execute(delete(Contact).where(Contact.tip_id == tip_id))
    return affected(result) > 0


async def delete_expired_contacts(db: AsyncSession, *, now: datetime) -> int:
    """Destroy every way back whose retention period is over."""
    result = await db.execute(delete(Contact).where(Contact.expires_at <= now))
    return affected(result)
