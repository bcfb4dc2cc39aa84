"""What the morning digest reads, aggregated once for the whole map, and its claims.

Every aggregate keeps `area` and `top_only` in its rows, so that one query serves every
officer's scope: the handlers slice the rows, the database is not asked again per officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import DigestClaim, Officer, ThreadMessage, ThreadRole, Tip, TipStatus
from storage.tips import OPEN_STATUSES

# Rows per INSERT: well under SQLite's limit on bound parameters.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class TipCount:
    """How many tips of one category were filed in one area (and day, for the chart)."""

    area: str
    top_only: bool
    category: str
    urgent: bool
    count: int
    day: str = ""


@dataclass(frozen=True, slots=True)
class OpenCount:
    """How many open tips of one area are of one age, and whether they are overdue."""

    area: str
    top_only: bool
    age_days: int  # 0: under a day, 1: one to three days, 3: three to seven, 7: older
    overdue: bool
    count: int


@dataclass(frozen=True, slots=True)
class TipLine:
    """One tip named in a digest: its code, where, what, and how it stands."""

    code: str
    area: str
    top_only: bool
    category: str
    status: TipStatus
    description: str
    created_at: datetime
    status_at: datetime


@dataclass(frozen=True, slots=True)
class PendingThread:
    """A question still unanswered, or an answer no officer has read yet."""

    role: ThreadRole
    code: str
    area: str
    top_only: bool


async def count_tips(db: AsyncSession, *, start: datetime, end: datetime) -> list[TipCount]:
    """Tips filed in [start, end) by area, category and urgency."""
    columns = (Tip.area, Tip.top_only, Tip.category, Tip.urgent)
    statement = (
        select(*columns, func.count())
        .where(Tip.created_at >= start, Tip.created_at < end)
        .group_by(*columns)
    )
    rows = await db.execute(statement)
    return [TipCount(area, only, category, urgent, n) for area, only, category, urgent, n in rows]


async def count_tips_by_day(
    db: AsyncSession, *, start: datetime, end: datetime, zone: ZoneInfo
) -> list[TipCount]:
    """Tips filed in [start, end) by local day, area and category.

    PostgreSQL converts each time with the zone's rules; SQLite, which has no zone data, uses
    the zone's offset at `end` (exact for zones without daylight saving, such as Vietnam's).
    """
    columns = (local_day(db, zone, end), Tip.area, Tip.top_only, Tip.category)
    statement = (
        select(*columns, func.count())
        .where(Tip.created_at >= start, Tip.created_at < end)
        .group_by(*columns)
    )
    rows = await db.execute(statement)
    return [
        TipCount(area, only, category, False, n, day=str(when))
        for when, area, only, category, n in rows
    ]


def local_day(db: AsyncSession, zone: ZoneInfo, end: datetime) -> ColumnElement[str]:
    """The local day a tip was filed on, as YYYY-MM-DD (SQLite: in the zone's offset at `end`)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(zone.key, Tip.created_at), "YYYY-MM-DD")
    minutes = (end.astimezone(zone).utcoffset() or timedelta()).total_seconds() / 60
    return func.strftime("%Y-%m-%d", Tip.created_at, f"{minutes:+.0f} minutes")


def _tip_line(tip: Tip) -> TipLine:
    return TipLine(
        tip.code,
        tip.area,
        tip.top_only,
        tip.category,
        tip.status,
        tip.description,
        tip.created_at,
        tip.status_at,
    )


async def list_urgent(db: AsyncSession, *, start: datetime, end: datetime) -> list[TipLine]:
    """Urgent tips filed in [start, end), oldest first."""
    statement = (
        select(Tip)
        .where(Tip.created_at >= start, Tip.created_at < end, Tip.urgent.is_(True))
        .order_by(Tip.created_at, Tip.id)
    )
    return [_tip_line(tip) for tip in await db.scalars(statement)]


async def count_open(
    db: AsyncSession, *, now: datetime, overdue_before: datetime
) -> list[OpenCount]:
    """Open tips by area, age since filed, and whether they are overdue."""
    age = case(
        (Tip.created_at >= now - timedelta(days=1), 0),
        (Tip.created_at >= now - timedelta(days=3), 1),
        (Tip.created_at >= now - timedelta(days=7), 3),
        else_=7,
    )
    overdue = Tip.status_at < overdue_before
    # Status first, in the order of ix_tip_open: SQLite then reads that index alone.
    columns = (Tip.status, Tip.area, Tip.top_only, age, overdue)
    statement = (
        select(*columns, func.count()).where(Tip.status.in_(OPEN_STATUSES)).group_by(*columns)
    )
    rows = await db.execute(statement)
    return [
        OpenCount(area, only, int(days), bool(late), n) for _, area, only, days, late, n in rows
    ]


async def oldest_overdue(
    db: AsyncSession, *, overdue_before: datetime, per_area: int
) -> list[TipLine]:
    """The `per_area` longest-waiting overdue tips of each area (top-only ones apart)."""
    rank = (
        func.row_number()
        .over(partition_by=(Tip.area, Tip.top_only), order_by=(Tip.status_at, Tip.id))
        .label("rank")
    )
    ranked = (
        select(Tip.id, rank)
        .where(Tip.status.in_(OPEN_STATUSES), Tip.status_at < overdue_before)
        .subquery()
    )
    statement = (
        select(Tip)
        .join(ranked, ranked.c.id == Tip.id)
        .where(ranked.c.rank <= per_area)
        .order_by(Tip.status_at, Tip.id)
    )
    return [_tip_line(tip) for tip in await db.scalars(statement)]


async def list_pending_thread(db: AsyncSession) -> list[PendingThread]:
    """Questions to tipsters still unanswered, and answers no officer has opened yet."""
    waiting: ColumnElement[bool] = or_(
        and_(ThreadMessage.role == ThreadRole.QUESTION, ThreadMessage.answered_at.is_(None)),
        and_(ThreadMessage.role == ThreadRole.ANSWER, ThreadMessage.read_at.is_(None)),
    )
    statement = (
        select(ThreadMessage.role, Tip.code, Tip.area, Tip.top_only)
        .join(Tip, Tip.id == ThreadMessage.tip_id)
        .where(waiting)
        .order_by(ThreadMessage.id)
    )
    rows = await db.execute(statement)
    return [PendingThread(role, code, area, only) for role, code, area, only in rows]


# --- who gets a digest, and the claims that make each one happen once ---


async def list_digest_officers(db: AsyncSession) -> list[Officer]:
    """Every enrolled officer not revoked (those with digests off get an 'off' claim)."""
    statement = select(Officer).where(Officer.revoked_at.is_(None), Officer.chat.is_not(None))
    return list(await db.scalars(statement.order_by(Officer.id)))


async def list_unreachable(db: AsyncSession) -> list[Officer]:
    """Active officers the platform could not deliver to, and why."""
    statement = select(Officer).where(
        Officer.revoked_at.is_(None), Officer.unreachable_at.is_not(None)
    )
    return list(await db.scalars(statement.order_by(Officer.name)))


async def latest_claims(db: AsyncSession) -> dict[tuple[int, str], str]:
    """The newest period claimed for each officer and kind of digest."""
    statement = select(DigestClaim.officer_id, DigestClaim.kind, func.max(DigestClaim.period))
    rows = await db.execute(statement.group_by(DigestClaim.officer_id, DigestClaim.kind))
    return {(officer, kind): period for officer, kind, period in rows}


ClaimKey = tuple[int, str, str]  # officer id, kind, period


async def claim_digests(
    db: AsyncSession, claims: list[tuple[ClaimKey, str]], *, now: datetime
) -> dict[ClaimKey, int]:
    """Claim digests (each key with its state); returns the ids of those no one claimed before.

    A claim another process made first is left alone and missing from the answer.
    """
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed: dict[ClaimKey, int] = {}
    for start in range(0, len(claims), CHUNK):
        rows = [
            {"officer_id": o, "kind": k, "period": p, "state": state, "created_at": now}
            for (o, k, p), state in claims[start : start + CHUNK]
        ]
        statement = (
            insert(DigestClaim)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["officer_id", "kind", "period"])
            .returning(DigestClaim.officer_id, DigestClaim.kind, DigestClaim.period, DigestClaim.id)
        )
        for officer, kind, period, claim in await db.execute(statement):
            claimed[officer, kind, period] = claim
    return claimed


async def attach_outbox(db: AsyncSession, pairs: list[tuple[int, int]]) -> None:
    """Remember which outbox message carries each claimed digest: (claim id, outbox id)."""
    if pairs:
        await db.execute(
            update(DigestClaim), [{"id": claim, "outbox_id": row} for claim, row in pairs]
        )


async def list_claims(db: AsyncSession, *, officer_id: int | None = None) -> list[DigestClaim]:
    """Claims, oldest first (for the operator and for tests)."""
    statement = select(DigestClaim).order_by(DigestClaim.id)
    if officer_id is not None:
        statement = statement.where(DigestClaim.officer_id == officer_id)
    return list(await db.scalars(statement))
