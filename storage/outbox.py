"""The outbox: messages to people other than the sender, queued in the sender's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import affected
from storage.models import Contact, Officer, Outbox, OutboxState

# Set in a session's info when it queued a message, so the sender is woken only then.
QUEUED = "outbox_queued"


def queued_in(db: AsyncSession) -> bool:
    """Whether this session queued any message."""
    return bool(db.info.get(QUEUED))


async def add_outbox(
    db: AsyncSession,
    *,
    payload: dict[str, Any],
    now: datetime,
    priority: int,
    tip_id: int | None = None,
    officer_id: int | None = None,
    held_until: datetime | None = None,
) -> Outbox:
    """Queue a message; it is delivered only if the surrounding transaction commits.

    With `officer_id` it goes to that officer; otherwise to the tipster of `tip_id`. A lower
    `priority` goes sooner (handlers.types.Priority). With `held_until`, not before then, and
    until then `drop_held_outbox` may take it back.
    """
    row = Outbox(
        tip_id=tip_id,
        officer_id=officer_id,
        payload=payload,
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=held_until or now,
        created_at=now,
        priority=priority,
        sent_parts=0,
    )
    db.add(row)
    await db.flush()
    db.info[QUEUED] = True
    return row


async def add_outbox_to_officers(
    db: AsyncSession, messages: list[tuple[int, dict[str, Any]]], *, now: datetime, priority: int
) -> list[int]:
    """Queue many officers' messages in one statement; returns their ids in the same order."""
    if not messages:
        return []
    rows = [
        {
            "officer_id": officer,
            "payload": payload,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "priority": priority,
            "sent_parts": 0,
        }
        for officer, payload in messages
    ]
    statement = insert(Outbox).returning(Outbox.id, sort_by_parameter_order=True)
    ids = list(await db.scalars(statement, rows))
    db.info[QUEUED] = True
    return ids


async def drop_held_outbox(db: AsyncSession, *, tip_id: int, now: datetime) -> int:
    """Take back the messages to a tip's tipster still held (never tried, not yet due);
    returns how many. One UPDATE, so a sender taking one at this moment keeps it, sent."""
    result = await db.execute(
        update(Outbox)
        .where(
            Outbox.tip_id == tip_id,
            Outbox.officer_id.is_(None),
            Outbox.state == OutboxState.PENDING,
            Outbox.attempts == 0,
            Outbox.lease.is_(None),
            Outbox.next_attempt_at > now,
        )
        .values(state=OutboxState.DROPPED)
    )
    return affected(result)


@dataclass(frozen=True, slots=True)
class Recipients:
    """The chats of one channel a sender delivers to, and no others (a console: its person's).

    Officers are known by their chat; a tipster's chat is sealed, so every tipster who wrote
    from the channel is a candidate, and the caller, having opened the address, notes in
    `passed` a message it found to be for another chat: it is not taken again.
    """

    channel: str
    chats: frozenset[str]
    passed: set[int] = field(default_factory=set)

    def holds(self, address: str) -> bool:
        """Whether an opened address ("channel:chat") is one of these chats."""
        channel, _, chat = address.partition(":")
        return channel == self.channel and chat in self.chats


async def due_outbox(
    db: AsyncSession,
    *,
    now: datetime,
    limit: int,
    holding: Collection[int] = (),
    most: int | None = None,
    only: Recipients | None = None,
) -> list[Outbox]:
    """Due messages, the most urgent first, at most one per recipient, ready to be leased
    (`lease_outbox`; on PostgreSQL locked until the transaction ends). With `most`, only
    messages of that priority or a more urgent one; with `only`, only those recipients'.

    A recipient's message is taken only when none of theirs is held by a sender, and it is
    their first due one (by priority, then as queued): so each recipient's messages go one
    after another and in order, whichever process sends them. `holding` are the messages
    the caller still works on: held even if their lease ran out while they waited their turn.
    """
    due = (Outbox.state == OutboxState.PENDING) & (Outbox.next_attempt_at <= now)
    if only is not None:
        due &= _addressed_to(only)
    held = aliased(Outbox)
    recipient_busy = exists().where(
        held.state == OutboxState.PENDING,
        held.lease.is_not(None),
        (held.next_attempt_at > now) | held.id.in_(list(holding)),
        held.officer_id.is_not_distinct_from(Outbox.officer_id),
        held.tip_id.is_not_distinct_from(Outbox.tip_id),
    )
    place = func.row_number().over(
        partition_by=(Outbox.officer_id, Outbox.tip_id), order_by=(Outbox.priority, Outbox.id)
    )
    firsts = select(Outbox.id, place.label("place")).where(due, ~recipient_busy).subquery()
    statement = (
        select(Outbox)
        .join(firsts, firsts.c.id == Outbox.id)
        # `due` again: PostgreSQL re-checks it on a row another claim changed meanwhile.
        .where(firsts.c.place == 1, due)
        .order_by(Outbox.priority, Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if most is not None:
        statement = statement.where(Outbox.priority <= most)
    if db.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Outbox)
    return list(await db.scalars(statement))


def _addressed_to(only: Recipients) -> ColumnElement[bool]:
    """Messages to officers in those chats, or to tipsters who wrote from that channel."""
    officers = select(Officer.id).where(
        Officer.channel == only.channel, Officer.chat.in_(sorted(only.chats))
    )
    tipsters = select(Contact.tip_id).where(Contact.channel == only.channel)
    return (
        Outbox.officer_id.in_(officers)
        | (Outbox.officer_id.is_(None) & Outbox.tip_id.in_(tipsters))
    ) & Outbox.id.not_in(sorted(only.passed))


async def lease_outbox(
    db: AsyncSession, rows: list[Outbox], *, now: datetime, lease: timedelta
) -> list[tuple[Outbox, str]]:
    """Lease messages to this sender; each comes with the fresh token its sender shows before
    every send (`set_outbox_lease`)."""
    leased = [(row, secrets.token_hex(8)) for row in rows]
    for row, token in leased:
        row.lease = token
        row.next_attempt_at = now + lease
        row.attempts += 1
    await db.flush()
    return leased


async def set_outbox_lease(
    db: AsyncSession, outbox_id: int, *, token: str, until: datetime, sent_parts: int
) -> bool:
    """Extend the lease on a message and record its parts sent so far, if `token` still holds
    it; False when another sender leased it since (then this one must not send it)."""
    result = await db.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.lease == token, Outbox.state == OutboxState.PENDING)
        .values(next_attempt_at=until, sent_parts=sent_parts)
        .execution_options(synchronize_session=False)
    )
    return affected(result) == 1


async def get_outbox(db: AsyncSession, outbox_id: int) -> Outbox | None:
    """One queued message."""
    return await db.get(Outbox, outbox_id)


async def set_outbox_result(
    db: AsyncSession,
    row: Outbox,
    *,
    state: OutboxState,
    now: datetime,
    retry_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Record how a delivery attempt ended: sent, retry later, failed for good, or dropped.

    Either way no sender holds the message any more.
    """
    row.state = state
    row.lease = None
    row.last_error = error[:200] if error else None
    if state is OutboxState.SENT:
        row.sent_at = now
    if retry_at is not None:
        row.next_attempt_at = retry_at
    await db.flush()


async def list_outbox(db: AsyncSession, *, state: OutboxState | None = None) -> list[Outbox]:
    """Queued messages, oldest first (for the operator and for tests)."""
    statement = select(Outbox).order_by(Outbox.id)
    if state is not None:
        statement = statement.where(Outbox.state == state)
    return list(await db.scalars(statement))
