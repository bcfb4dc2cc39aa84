"""Messages to tipsters outside their own conversation: status news, delivered via the outbox."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.texts import N_, text
from handlers.common.types import Context, Priority, Reply
from storage.models import Outbox, OutboxState, Tip, TipStatus
from storage.officers import get_officer, set_reachable
from storage.outbox import (
    Recipients,
    add_outbox,
    due_outbox,
    get_outbox,
    lease_outbox,
    set_outbox_lease,
    set_outbox_result,
)
from storage.tips import add_tip_event, get_contact, get_tip_code

MAX_ATTEMPTS = 8
# How long a sender holds a message before another may take it. Renewed before every send,
# so it need only outlast one platform call (and the wait for the next), not a whole queue.
LEASE = timedelta(minutes=2)
# What a tip's status is called, to the tipster and to officers alike.
STATUS_NAMES = {
    TipStatus.RECEIVED: N_("status.received"),
    TipStatus.VERIFYING: N_("status.verifying"),
    TipStatus.HANDLED: N_("status.handled"),
    TipStatus.CLOSED_UNFOUNDED: N_("status.closed_unfounded"),
    TipStatus.CLOSED_DUPLICATE: N_("status.closed_duplicate"),
    TipStatus.CLOSED_SPAM: N_("status.closed_spam"),
}


async def tell_officer(
    db: AsyncSession, officer_id: int, reply: Reply, *, now: datetime, priority: Priority
) -> None:
    """Queue a message for an officer: it reaches them after the commit, the urgent sooner."""
    await add_outbox(db, payload=reply.to_json(), now=now, priority=priority, officer_id=officer_id)


async def change_status(
    db: AsyncSession,
    ctx: Context,
    tip: Tip,
    *,
    status: TipStatus | None,
    public_note: str | None = None,
    note: str | None = None,
    officer_id: int | None = None,
    held_until: datetime | None = None,
) -> None:
    """Record a status change or public note; a contactable tipster gets a short, neutral
    notice (held until `held_until`, if given): the new status, or that there is a new note
    when the status stayed."""
    await add_tip_event(
        db,
        tip,
        now=ctx.now,
        status=status,
        public_note=public_note,
        note=note,
        officer_id=officer_id,
    )
    if await get_contact(db, tip.id) is None:
        return
    lang, code = tip.language, show_code(tip.code)
    if status is None:
        notice = Reply(text(lang, "note.notice", code=code))
    else:
        news = text(lang, STATUS_NAMES[status])
        notice = Reply(text(lang, "status.notice", code=code, status=news))
    await add_outbox(
        db,
        tip_id=tip.id,
        payload=notice.to_json(),
        now=ctx.now,
        priority=Priority.NOTICE,
        held_until=held_until,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message ready to go out: where to, what, how urgently, and the lease that holds it."""

    outbox_id: int
    channel: str
    chat: str
    reply: Reply
    priority: Priority
    lease: str
    sent_parts: int = 0  # parts that went out before an earlier attempt failed

    def __repr__(self) -> str:
        return f"Delivery(outbox_id={self.outbox_id}, channel={self.channel!r})"


async def take_deliveries(
    db: AsyncSession,
    ctx: Context,
    *,
    limit: int = 20,
    lease: timedelta = LEASE,
    holding: Collection[int] = (),
    most: Priority | None = None,
    only: Recipients | None = None,
) -> list[Delivery]:
    """Lease due outbox messages, one per recipient and none the caller is `holding` (with
    `most`, none less urgent; with `only`, none for other chats), and open their addresses; a
    forgotten address drops it."""
    rows = await due_outbox(db, now=ctx.now, limit=limit, holding=holding, most=most, only=only)
    addressed = []
    for row in rows:
        address = await _address(db, ctx, row)
        if address is None:
            await set_outbox_result(db, row, state=OutboxState.DROPPED, now=ctx.now)
        elif only is not None and not only.holds(address):
            only.passed.add(row.id)  # another chat's tipster: left for whoever holds that chat
        else:
            addressed.append((row, address))
    leased = await lease_outbox(db, [row for row, _ in addressed], now=ctx.now, lease=lease)
    deliveries = []
    for (row, token), (_, address) in zip(leased, addressed, strict=True):
        channel, _, chat = address.partition(":")
        reply, priority = Reply.from_json(row.payload), Priority(row.priority)
        deliveries.append(Delivery(row.id, channel, chat, reply, priority, token, row.sent_parts))
    return deliveries


async def _address(db: AsyncSession, ctx: Context, row: Outbox) -> str | None:
    """Where a message goes ("channel:chat"): its officer's chat or its tipster's sealed one."""
    if row.officer_id is not None:
        return await _officer_address(db, row.officer_id)
    return await _open_address(db, ctx, row.tip_id)


async def keep_delivery(
    db: AsyncSession, ctx: Context, delivery: Delivery, *, sent_parts: int, lease: timedelta = LEASE
) -> bool:
    """Renew this sender's lease just before a send, noting the parts already out; False when
    the lease ran out and another sender took the message (then it must not be sent here)."""
    return await set_outbox_lease(
        db, delivery.outbox_id, token=delivery.lease, until=ctx.now + lease, sent_parts=sent_parts
    )


async def _officer_address(db: AsyncSession, officer_id: int) -> str | None:
    """An active officer's chat; None once revoked (their queued messages are dropped)."""
    officer = await get_officer(db, officer_id)
    if officer is None or officer.revoked_at is not None or officer.chat is None:
        return None
    return f"{officer.channel}:{officer.chat}"


async def _open_address(db: AsyncSession, ctx: Context, tip_id: int | None) -> str | None:
    """The tipster's address, or None once it was forgotten, expired, or never given."""
    contact = await get_contact(db, tip_id) if tip_id is not None else None
    code = await get_tip_code(db, tip_id) if contact and tip_id is not None else None
    return ctx.sealer.open(contact.sealed, bound_to=code) if contact and code else None


async def settle_delivery(
    db: AsyncSession,
    ctx: Context,
    delivery: Delivery,
    *,
    error: str | None = None,
    retry_after: float | None = None,
    permanent: bool = False,
    sent_parts: int = 0,
) -> bool:
    """Record a delivery: done, retried later (backoff, or when the platform says), or given up.

    Parts already delivered are remembered, so a retry never repeats them; an officer whose
    chat refuses for good is marked unreachable, for the admins' next digest. Nothing is
    recorded (False) if another sender has taken the message meanwhile: it is theirs now.
    """
    row = await get_outbox(db, delivery.outbox_id)
    if row is None or row.lease != delivery.lease:
        return False
    row.sent_parts = sent_parts
    if error is None:
        await set_outbox_result(db, row, state=OutboxState.SENT, now=ctx.now)
        return True
    if permanent or row.attempts >= MAX_ATTEMPTS:
        await set_outbox_result(db, row, state=OutboxState.FAILED, now=ctx.now, error=error)
        if permanent and row.officer_id is not None:
            await set_reachable(db, row.officer_id, reason=error, now=ctx.now)
        return True
    backoff = retry_after if retry_after is not None else min(15 * 2 ** (row.attempts - 1), 3600)
    retry_at = ctx.now + timedelta(seconds=backoff)
    await set_outbox_result(
        db, row, state=OutboxState.PENDING, now=ctx.now, retry_at=retry_at, error=error
    )
    return True
