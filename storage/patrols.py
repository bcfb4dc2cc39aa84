"""Patrol groups, their members and weekly plan, shifts with their points, and missed patrols."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MissedPatrol, PatrolGroup, PatrolMember, PatrolPoint, PatrolSlot, Shift


async def add_group(
    db: AsyncSession,
    *,
    name: str,
    area: str,
    officer_id: int | None,
    join_hash: str,
    now: datetime,
) -> PatrolGroup:
    """A new patrol group with its join code's hash."""
    group = PatrolGroup(
        name=name, area=area, officer_id=officer_id, join_hash=join_hash, created_at=now
    )
    db.add(group)
    await db.flush()
    return group


async def get_group_by_name(db: AsyncSession, name: str) -> PatrolGroup | None:
    """A live group by its exact name."""
    group: PatrolGroup | None = await db.scalar(
        select(PatrolGroup).where(PatrolGroup.name == name, PatrolGroup.deleted_at.is_(None))
    )
    return group


async def get_group_by_join_hash(db: AsyncSession, join_hash: str) -> PatrolGroup | None:
    """The group a join code belongs to, deleted or not."""
    group: PatrolGroup | None = await db.scalar(
        select(PatrolGroup).where(PatrolGroup.join_hash == join_hash)
    )
    return group


async def get_group(db: AsyncSession, group_id: int) -> PatrolGroup | None:
    """A group by id."""
    return await db.get(PatrolGroup, group_id)


async def list_groups(db: AsyncSession, *, areas: Iterable[str] | None) -> list[PatrolGroup]:
    """Live groups of these areas, or all when `areas` is None, by name."""
    statement = select(PatrolGroup).where(PatrolGroup.deleted_at.is_(None))
    if areas is not None:
        statement = statement.where(PatrolGroup.area.in_(sorted(areas)))
    return list(await db.scalars(statement.order_by(PatrolGroup.name)))


async def get_membership(db: AsyncSession, *, channel: str, chat: str) -> PatrolMember | None:
    """This chat's current membership, if it is in a group."""
    member: PatrolMember | None = await db.scalar(
        select(PatrolMember).where(
            PatrolMember.channel == channel,
            PatrolMember.chat == chat,
            PatrolMember.left_at.is_(None),
        )
    )
    return member


async def get_member(db: AsyncSession, member_id: int) -> PatrolMember | None:
    """A member by id, current or former."""
    return await db.get(PatrolMember, member_id)


async def list_members(db: AsyncSession, group_id: int) -> list[PatrolMember]:
    """A group's current members, in joining order."""
    statement = select(PatrolMember).where(
        PatrolMember.group_id == group_id, PatrolMember.left_at.is_(None)
    )
    return list(await db.scalars(statement.order_by(PatrolMember.id)))


async def list_all_members(db: AsyncSession, *, left_since: datetime) -> list[PatrolMember]:
    """Every group's members: current ones, and those who left at `left_since` or later."""
    statement = select(PatrolMember).where(
        or_(PatrolMember.left_at.is_(None), PatrolMember.left_at >= left_since)
    )
    return list(await db.scalars(statement.order_by(PatrolMember.id)))


async def add_member(
    db: AsyncSession, *, group_id: int, channel: str, chat: str, now: datetime
) -> PatrolMember:
    """A chat joins a group; its display name is asked next."""
    member = PatrolMember(group_id=group_id, channel=channel, chat=chat, joined_at=now)
    db.add(member)
    await db.flush()
    return member


async def set_member(
    db: AsyncSession,
    member: PatrolMember,
    *,
    name: str | None = None,
    left_at: datetime | None = None,
) -> None:
    """Name a member, or take them out of their group."""
    if name is not None:
        member.name = name
    if left_at is not None:
        member.left_at = left_at
    await db.flush()


async def replace_slots(db: AsyncSession, group_id: int, slots: list[tuple[int, str, str]]) -> None:
    """Set a group's weekly plan: (weekday, "HH:MM" start, "HH:MM" end) rows."""
    await db.execute(delete(PatrolSlot).where(PatrolSlot.group_id == group_id))
    for weekday, starts, ends in slots:
        db.add(PatrolSlot(group_id=group_id, weekday=weekday, starts=starts, ends=ends))
    await db.flush()


async def list_slots(db: AsyncSession, group_id: int) -> list[PatrolSlot]:
    """A group's weekly plan, Monday first."""
    statement = select(PatrolSlot).where(PatrolSlot.group_id == group_id)
    return list(await db.scalars(statement.order_by(PatrolSlot.weekday, PatrolSlot.starts)))


async def open_shift_of(db: AsyncSession, member_id: int) -> Shift | None:
    """The member's shift in progress, if any."""
    shift: Shift | None = await db.scalar(
        select(Shift).where(Shift.member_id == member_id, Shift.ended_at.is_(None))
    )
    return shift


async def add_shift(
    db: AsyncSession,
    *,
    group_id: int,
    member_id: int,
    now: datetime,
    planned: tuple[datetime, datetime] | None,
    late: bool,
) -> Shift:
    """Start a shift, matched to a planned one when it fits."""
    shift = Shift(
        group_id=group_id,
        member_id=member_id,
        started_at=now,
        planned_start=planned[0] if planned else None,
        planned_end=planned[1] if planned else None,
        late=late,
    )
    db.add(shift)
    await db.flush()
    return shift


async def add_point(db: AsyncSession, point: PatrolPoint) -> PatrolPoint:
    """Record where a member was: the start, a checkpoint or an incident."""
    db.add(point)
    await db.flush()
    return point


async def end_shift(
    db: AsyncSession, shift: Shift, *, now: datetime, summary: str | None, auto: bool = False
) -> None:
    """Close a shift, by the member or automatically."""
    shift.ended_at, shift.summary, shift.auto_closed = now, summary, auto
    await db.flush()


async def list_open_shifts(db: AsyncSession) -> list[Shift]:
    """Every shift not yet ended."""
    return list(await db.scalars(select(Shift).where(Shift.ended_at.is_(None))))


async def list_points(db: AsyncSession, shift_ids: list[int]) -> list[PatrolPoint]:
    """The points of these shifts, in time order."""
    if not shift_ids:
        return []
    statement = select(PatrolPoint).where(PatrolPoint.shift_id.in_(shift_ids))
    return list(await db.scalars(statement.order_by(PatrolPoint.at, PatrolPoint.id)))


async def get_missed(db: AsyncSession, missed_id: int) -> MissedPatrol | None:
    """One missed-patrol alert."""
    return await db.get(MissedPatrol, missed_id)


async def add_missed(
    db: AsyncSession, *, group_id: int, planned: tuple[datetime, datetime], now: datetime
) -> MissedPatrol:
    """Raise the alert for a planned shift nobody started."""
    missed = MissedPatrol(
        group_id=group_id, planned_start=planned[0], planned_end=planned[1], raised_at=now
    )
    db.add(missed)
    await db.flush()
    return missed


async def close_missed(
    db: AsyncSession, missed: MissedPatrol, *, officer_id: int, comment: str, now: datetime
) -> None:
    """An officer closes a missed-patrol alert with a comment, which is kept."""
    missed.closed_at, missed.closed_by_id, missed.comment = now, officer_id, comment
    await db.flush()


async def list_all_slots(db: AsyncSession, *, group_id: int | None = None) -> list[PatrolSlot]:
    """Every group's weekly plan (or one group's), in one query."""
    statement = select(PatrolSlot)
    if group_id is not None:
        statement = statement.where(PatrolSlot.group_id == group_id)
    return list(await db.scalars(statement.order_by(PatrolSlot.group_id, PatrolSlot.id)))


async def list_all_shifts(
    db: AsyncSession, *, since: datetime, until: datetime, group_id: int | None = None
) -> list[Shift]:
    """Every group's shifts (or one group's) started in [since, until), oldest first."""
    statement = select(Shift).where(Shift.started_at >= since, Shift.started_at < until)
    if group_id is not None:
        statement = statement.where(Shift.group_id == group_id)
    return list(await db.scalars(statement.order_by(Shift.started_at, Shift.id)))


async def list_all_missed(
    db: AsyncSession, *, since: datetime, until: datetime, group_id: int | None = None
) -> list[MissedPatrol]:
    """Missed planned shifts of every group (or one group) that started in [since, until), or
    are still open."""
    in_period = and_(MissedPatrol.planned_start >= since, MissedPatrol.planned_start < until)
    statement = select(MissedPatrol).where(or_(in_period, MissedPatrol.closed_at.is_(None)))
    if group_id is not None:
        statement = statement.where(MissedPatrol.group_id == group_id)
    return list(await db.scalars(statement.order_by(MissedPatrol.planned_start)))
