"""Tips, their history, attachments, and the sealed way back to the tipster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached, selectinload

from storage.db import Plain, affected, plain_execute, plain_scalar
from storage.models import (
    SEALED_PASSPHRASE_WHERE,
    Attachment,
    Contact,
    ThreadMessage,
    Tip,
    TipEvent,
    TipStatus,
)


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
    channel: str  # the platform the tip (and so its attachments) came by
    top_only: bool = False


_CODE_TAKEN = Plain(select(Tip.id).where(Tip.code == bindparam("code")))


async def code_exists(db: AsyncSession, code: str) -> bool:
    """Whether a tip code is already taken."""
    return (await plain_scalar(db, _CODE_TAKEN, {"code": code})) is not None


# A new tip, its first history row and its attachments, written plainly: through the ORM's
# flush, filing cost four times any other step of the conversation, and every tip of a burst
# queued behind it.
_tips = cast(Table, Tip.__table__)
_events = cast(Table, TipEvent.__table__)
_attachments = cast(Table, Attachment.__table__)


def _insert_all(table: Table, *, unset: tuple[str, ...] = ()) -> Insert:
    named = [c.name for c in table.c if c.name not in ("id", *unset)]
    return insert(table).values({name: bindparam(name) for name in named})


# A new tip has had no officer yet: its first action stays NULL unnamed, and the INSERT is
# the same before and after migration 0022 (tests file tips at older revisions).
_INSERT_TIP = Plain(_insert_all(_tips, unset=("first_action_at",)).returning(_tips.c.id))
_INSERT_EVENT = Plain(_insert_all(_events))
_INSERT_ATTACHMENT = Plain(_insert_all(_attachments))


async def add_tip(db: AsyncSession, new: NewTip, *, now: datetime) -> Tip:
    """Store a tip, its attachments and its first history row ("received")."""
    row = {
        "code": new.code,
        "category": new.category,
        "area": new.area,
        "place": new.place,
        "latitude": new.latitude,
        "longitude": new.longitude,
        "description": new.description,
        "occurred": new.occurred,
        "urgent": new.urgent,
        "language": new.language,
        "passphrase_hash": new.passphrase_hash,
        "failed_checks": 0,
        "locked_until": None,
        "status": TipStatus.RECEIVED,
        "status_at": now,
        "top_only": new.top_only,
        "assigned_officer_id": None,
        "acknowledged_at": None,
        "acknowledged_by_id": None,
        "escalated_at": None,
        "duplicate_of_id": None,
        "created_at": now,
    }
    tip_id = int(await plain_scalar(db, _INSERT_TIP, row))
    event = dict.fromkeys(("public_note", "note", "officer_id", "assigned_officer_id"))
    event |= {"tip_id": tip_id, "status": TipStatus.RECEIVED, "created_at": now}
    await plain_execute(db, _INSERT_EVENT, event)
    for position, (kind, ref) in enumerate(new.attachments):
        attachment = {
            "tip_id": tip_id,
            "position": position,
            "kind": kind,
            "ref": ref,
            "channel": new.channel,
        }
        await plain_execute(db, _INSERT_ATTACHMENT, attachment)
    # The stored row, handed to the session as if loaded: later changes to it are flushed as
    # usual; its history and attachments are read from the database when asked for.
    tip = Tip(id=tip_id, first_action_at=None, **row)
    make_transient_to_detached(tip)
    db.add(tip)
    return tip


async def _tip_where(db: AsyncSession, condition: ColumnElement[bool]) -> Tip | None:
    tip: Tip | None = await db.scalar(
        select(Tip)
        .where(condition)
        .options(selectinload(Tip.events), selectinload(Tip.attachments))
    )
    return tip


async def get_tip(db: AsyncSession, code: str) -> Tip | None:
    """A tip by its code, with history and attachments loaded."""
    return await _tip_where(db, Tip.code == code)


async def get_tip_by_id(db: AsyncSession, tip_id: int) -> Tip | None:
    """A tip by its row id, with history and attachments loaded."""
    return await _tip_where(db, Tip.id == tip_id)


async def get_tip_code(db: AsyncSession, tip_id: int) -> str | None:
    """The code of a tip known by its row id."""
    code: str | None = await db.scalar(select(Tip.code).where(Tip.id == tip_id))
    return code


async def list_tip_codes(db: AsyncSession, tip_ids: set[int], scope: Scope) -> dict[int, str]:
    """The codes of the tips known by these row ids that are in scope."""
    if not tip_ids:
        return {}
    found = select(Tip.id, Tip.code).where(Tip.id.in_(tip_ids), _in_scope(scope))
    return dict((await db.execute(found)).tuples().all())


async def add_tip_event(
    db: AsyncSession,
    tip: Tip,
    *,
    now: datetime,
    status: TipStatus | None = None,
    public_note: str | None = None,
    note: str | None = None,
    officer_id: int | None = None,
    assigned_officer_id: int | None = None,
    status_since: datetime | None = None,
) -> TipEvent:
    """Record a change: status, public note, internal note, assignment; the tip follows it
    (its status counting from `status_since`, a status restored by undo, else from now)."""
    event = TipEvent(
        tip_id=tip.id,
        status=status,
        public_note=public_note,
        note=note,
        officer_id=officer_id,
        assigned_officer_id=assigned_officer_id,
        created_at=now,
    )
    db.add(event)
    if status is not None:
        tip.status = status
        tip.status_at = status_since or now
    if assigned_officer_id is not None:
        tip.assigned_officer_id = assigned_officer_id
    if officer_id is not None:
        _acted(tip, now)
    await db.flush()
    await db.refresh(tip, ["events"])
    return event


async def delete_note_event(db: AsyncSession, tip: Tip, event: TipEvent) -> None:
    """Take back a public note its officer undid (a row holding only that note)."""
    await db.delete(event)
    await db.flush()
    await db.refresh(tip, ["events"])


def _acted(tip: Tip, at: datetime) -> None:
    """An officer acted on the tip at `at`: the first such moment stays on the tip."""
    if tip.first_action_at is None or at < tip.first_action_at:
        tip.first_action_at = at


async def set_failed_checks(
    db: AsyncSession, tip: Tip, *, failed: int, locked_until: datetime | None
) -> None:
    """Remember wrong passphrases, and lock the tip for a while after too many."""
    tip.failed_checks = failed
    tip.locked_until = locked_until
    await db.flush()


async def count_failed_check(
    db: AsyncSession, tip: Tip, *, ceiling: int, locked_until: datetime
) -> bool:
    """Count a wrong passphrase for a tip, whoever typed it; the `ceiling`-th locks the tip for
    everyone until `locked_until` and starts the count again. True when it locked."""
    # Added up in the database: a guesser's other accounts may be answered by other processes.
    counted = update(Tip).where(Tip.id == tip.id).values(failed_checks=Tip.failed_checks + 1)
    failed = int(await db.scalar(counted.returning(Tip.failed_checks)) or 0)
    if failed < ceiling:
        return False
    await set_failed_checks(db, tip, failed=0, locked_until=locked_until)
    return True


@dataclass(frozen=True, slots=True)
class SealedPassphrase:
    """A tip whose passphrase is still stored sealed, waiting for its slow hash."""

    tip_id: int
    code: str
    stored: str


async def sealed_passphrases(db: AsyncSession, *, limit: int) -> list[SealedPassphrase]:
    """The oldest tips whose passphrase still waits for its hash (found by a partial index)."""
    rows = await db.execute(
        select(Tip.id, Tip.code, Tip.passphrase_hash)
        .where(SEALED_PASSPHRASE_WHERE)
        .order_by(Tip.id)
        .limit(limit)
    )
    return [SealedPassphrase(*row) for row in rows.tuples()]


async def replace_passphrases(
    db: AsyncSession, replaced: list[tuple[SealedPassphrase, str]]
) -> int:
    """Store each hash in place of its sealed passphrase, unless the tip changed meanwhile."""
    done = 0
    for sealed, hashed in replaced:
        result = await db.execute(
            update(Tip)
            .where(Tip.id == sealed.tip_id, Tip.passphrase_hash == sealed.stored)
            .values(passphrase_hash=hashed)
        )
        done += affected(result)
    return done


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


OPEN_STATUSES = (TipStatus.RECEIVED, TipStatus.VERIFYING)


@dataclass(frozen=True, slots=True)
class Scope:
    """The tips an officer may see: all of them, or those of the areas under their unit
    that were not kept for the top unit alone."""

    areas: frozenset[str] | None = None  # None: every area (an officer of the top unit)

    def admits(self, tip: Tip) -> bool:
        """Whether a tip is inside this scope."""
        return self.covers(tip.area, top_only=tip.top_only)

    def covers(self, area: str, *, top_only: bool) -> bool:
        """Whether tips of `area` (kept for the top unit or not) are inside this scope."""
        return self.areas is None or (area in self.areas and not top_only)


def _in_scope(scope: Scope) -> Any:
    if scope.areas is None:
        return true()
    return and_(Tip.area.in_(sorted(scope.areas)), Tip.top_only.is_(False))


def _filtered(scope: Scope, which: str, *, overdue_before: datetime) -> Any:
    conditions = [_in_scope(scope)]
    if which == "new":
        conditions.append(Tip.status == TipStatus.RECEIVED)
    elif which in ("open", "overdue"):
        conditions.append(Tip.status.in_(OPEN_STATUSES))
    if which == "overdue":
        conditions.append(Tip.status_at < overdue_before)
    return and_(*conditions)


class Standing(IntEnum):
    """Where a tip stands in an officer's queue: the open ones urgent first, then overdue,
    then the others; a tip no longer open stands after them all."""

    URGENT = 0
    OVERDUE = 1
    WAITING = 2
    DONE = 3


def is_overdue(tip: Tip, *, overdue_before: datetime) -> bool:
    """Whether an open tip has waited too long for a status change (the SQL of _filtered)."""
    return tip.status in OPEN_STATUSES and tip.status_at < overdue_before


def standing(tip: Tip, *, overdue_before: datetime) -> Standing:
    """Where this tip stands in the queue now (the SQL twin is _standing)."""
    if tip.status not in OPEN_STATUSES:
        return Standing.DONE
    if tip.urgent:
        return Standing.URGENT
    return Standing.OVERDUE if is_overdue(tip, overdue_before=overdue_before) else Standing.WAITING


def _standing(overdue_before: datetime) -> ColumnElement[int]:
    # Of an open tip, as a CASE over the row: SQLite and PostgreSQL sort and page it alike.
    return case(
        (Tip.urgent.is_(True), int(Standing.URGENT)),
        (Tip.status_at < overdue_before, int(Standing.OVERDUE)),
        else_=int(Standing.WAITING),
    )


def _queue_order(overdue_before: datetime) -> tuple[Any, ...]:
    # Oldest first within a standing; the id settles tips filed at the same moment.
    return (_standing(overdue_before), Tip.created_at, Tip.id)


async def _count(db: AsyncSession, where: ColumnElement[bool]) -> int:
    return int(await db.scalar(select(func.count()).select_from(Tip).where(where)) or 0)


async def _ids(
    db: AsyncSession, where: ColumnElement[bool], order: tuple[Any, ...], *, offset: int, limit: int
) -> list[int]:
    # Ids only: the sort then reads the index (ix_tip_open for the queue), not every row.
    if limit <= 0:
        return []
    statement = select(Tip.id).where(where).order_by(*order).offset(offset).limit(limit)
    return list(await db.scalars(statement))


async def _tips_in_order(db: AsyncSession, ids: list[int]) -> list[Tip]:
    found = {tip.id: tip for tip in await db.scalars(select(Tip).where(Tip.id.in_(ids)))}
    return [found[tip_id] for tip_id in ids if tip_id in found]


async def list_tips(
    db: AsyncSession,
    scope: Scope,
    *,
    which: str,
    overdue_before: datetime,
    offset: int,
    limit: int,
) -> tuple[list[Tip], int]:
    """One page of tips in scope and how many there are in all: the open ones urgent and
    overdue first, then oldest first; for "all", the rest after them, newest first."""
    where = _filtered(scope, which, overdue_before=overdue_before)
    is_open = Tip.status.in_(OPEN_STATUSES)
    open_total = await _count(db, and_(where, is_open))
    order = _queue_order(overdue_before)
    # A page past the open ones sorts none of them.
    reach = limit if offset < open_total else 0
    ids = await _ids(db, and_(where, is_open), order, offset=offset, limit=reach)
    if which != "all":
        return await _tips_in_order(db, ids), open_total
    # Apart from the open ones, so this part walks the date index instead of sorting all tips.
    ids += await _ids(
        db,
        and_(where, ~is_open),
        (Tip.created_at.desc(), Tip.id.desc()),
        offset=max(0, offset - open_total),
        limit=limit - len(ids),
    )
    return await _tips_in_order(db, ids), await _count(db, where)


async def next_open_tip_id(
    db: AsyncSession,
    scope: Scope,
    *,
    after: Tip,
    stood: Standing,
    overdue_before: datetime,
) -> int | None:
    """The open tip in scope that follows `after` in the queue, from where `after` stood
    (before an officer's action moved it); from a tip no longer open, the queue's first."""
    rank = _standing(overdue_before)
    later = or_(
        rank > int(stood),
        and_(
            rank == int(stood),
            or_(
                Tip.created_at > after.created_at,
                and_(Tip.created_at == after.created_at, Tip.id > after.id),
            ),
        ),
    )
    statement = (
        select(Tip.id)
        .where(_in_scope(scope), Tip.status.in_(OPEN_STATUSES), Tip.id != after.id)
        .where(true() if stood is Standing.DONE else later)
        .order_by(*_queue_order(overdue_before))
        .limit(1)
    )
    found: int | None = await db.scalar(statement)
    return found


def _filed_between(scope: Scope, start: datetime, end: datetime) -> Any:
    return and_(_in_scope(scope), Tip.created_at >= start, Tip.created_at < end)


async def list_tips_between(
    db: AsyncSession, scope: Scope, *, start: datetime, end: datetime
) -> list[Tip]:
    """Every tip in scope filed in [start, end), oldest first, with history and attachments."""
    result = await db.scalars(
        select(Tip)
        .where(_filed_between(scope, start, end))
        .order_by(Tip.created_at, Tip.id)
        .options(selectinload(Tip.events), selectinload(Tip.attachments))
    )
    return list(result)


async def list_threads_between(
    db: AsyncSession, scope: Scope, *, start: datetime, end: datetime
) -> list[ThreadMessage]:
    """The questions and answers about every tip in scope filed in [start, end), oldest first."""
    # A subquery, not the tips' ids: a month of a province's tips would be a long list of values.
    filed = select(Tip.id).where(_filed_between(scope, start, end))
    result = await db.scalars(
        select(ThreadMessage).where(ThreadMessage.tip_id.in_(filed)).order_by(ThreadMessage.id)
    )
    return list(result)


async def list_unacknowledged_urgent(db: AsyncSession, *, filed_before: datetime) -> list[Tip]:
    """Urgent tips nobody acknowledged since before `filed_before`, not yet escalated."""
    result = await db.scalars(
        select(Tip).where(
            Tip.urgent.is_(True),
            Tip.acknowledged_at.is_(None),
            Tip.escalated_at.is_(None),
            Tip.created_at < filed_before,
        )
    )
    return list(result)


async def list_tips_near(
    db: AsyncSession, scope: Scope, tip: Tip, *, within: timedelta, degrees: float, limit: int
) -> list[Tip]:
    """Tips in scope filed within `within` of this one that may repeat it: the same area and
    category, or a pin within `degrees` of its pin; none already a duplicate; newest first."""
    alike = and_(Tip.area == tip.area, Tip.category == tip.category)
    if tip.latitude is not None and tip.longitude is not None:
        close_by = and_(
            Tip.latitude.between(tip.latitude - degrees, tip.latitude + degrees),
            Tip.longitude.between(tip.longitude - degrees, tip.longitude + degrees),
        )
        alike = or_(alike, close_by)
    statement = (
        select(Tip)
        .where(
            _in_scope(scope),
            Tip.id != tip.id,
            Tip.duplicate_of_id.is_(None),
            Tip.created_at.between(tip.created_at - within, tip.created_at + within),
            alike,
        )
        .order_by(Tip.created_at.desc(), Tip.id.desc())
        .limit(limit)
    )
    return list(await db.scalars(statement))


async def set_tip_flags(
    db: AsyncSession,
    tip: Tip,
    *,
    acknowledged_at: datetime | None = None,
    acknowledged_by_id: int | None = None,
    escalated_at: datetime | None = None,
    duplicate_of_id: int | None = None,
    repeats_none: bool = False,
) -> None:
    """Mark a tip acknowledged by an officer, escalated to the level above, a duplicate, or
    (`repeats_none`) no longer a duplicate."""
    if acknowledged_at is not None:
        tip.acknowledged_at, tip.acknowledged_by_id = acknowledged_at, acknowledged_by_id
        _acted(tip, acknowledged_at)
    if escalated_at is not None:
        tip.escalated_at = escalated_at
    if duplicate_of_id is not None:
        tip.duplicate_of_id = duplicate_of_id
    if repeats_none:
        tip.duplicate_of_id = None
    await db.flush()
