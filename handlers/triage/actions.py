"""What an officer does to a tip, for the chat and a web page alike: rows, audit and notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.notices import change_status, tell_officer
from handlers.common.scopes import may_see
from handlers.common.texts import text
from handlers.common.types import Context, Option, Priority, Reply
from handlers.conversation.buttons import AnswerQuestion, OpenTip
from handlers.conversation.turn import Turn
from storage.audit import add_audit
from storage.models import Officer, ThreadMessage, ThreadRole, Tip, TipEvent, TipStatus
from storage.outbox import add_outbox, drop_held_outbox
from storage.thread import add_thread_message, delete_question, get_last_question, mark_relayed
from storage.tips import (
    add_tip_event,
    delete_note_event,
    get_contact,
    get_tip_by_id,
    set_tip_flags,
)

# How long a change made on the desk may be taken back before its notice reaches the tipster.
UNDO_TIME = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Acting:
    """An officer at work in one transaction: whatever they do is written and audited as theirs."""

    db: AsyncSession
    ctx: Context
    officer: Officer

    async def audit(self, action: str, tip: Tip, detail: str | None = None) -> None:
        """Append what this officer just did to this tip to the audit log."""
        await add_audit(
            self.db,
            officer_id=self.officer.id,
            action=action,
            tip_id=tip.id,
            now=self.ctx.now,
            detail=detail,
        )


def acting_of(turn: Turn) -> Acting:
    """The officer writing in this chat, at work (only ever called for an officer's turn)."""
    assert turn.officer is not None
    return Acting(turn.db, turn.ctx, turn.officer)


async def tells_tipster(acting: Acting, tip: Tip) -> bool:
    """Whether a change to this tip reaches its tipster now (they allowed contact and have not
    withdrawn it): such a change is worth a confirmation first."""
    return await get_contact(acting.db, tip.id) is not None


async def set_status(
    acting: Acting, tip: Tip, status: TipStatus, *, note: str | None, undoable: bool = False
) -> bool:
    """Move the tip to a status (a contactable tipster gets a neutral notice, held for the undo
    time when `undoable`); False if it already was in it."""
    if tip.status is status:
        return False
    await change_status(
        acting.db,
        acting.ctx,
        tip,
        status=status,
        note=note,
        officer_id=acting.officer.id,
        held_until=acting.ctx.now + UNDO_TIME if undoable else None,
    )
    await acting.audit(f"status:{status.value}", tip)
    return True


@dataclass(frozen=True, slots=True)
class Undoable:
    """What this officer did to the tip last that may still be taken back, and when."""

    kind: str  # "status", "public_note" or "question"
    at: datetime
    event: TipEvent | None = None
    question: ThreadMessage | None = None


async def undoable(acting: Acting, tip: Tip) -> Undoable | None:
    """This officer's latest change to the tip that may still be undone: a status, a public
    note or an unanswered question, made less than the undo time ago, nothing done since."""
    found = []
    last = tip.events[-1] if tip.events else None
    if last is not None and last.officer_id == acting.officer.id:
        if last.status is not None:
            found.append(Undoable("status", last.created_at, event=last))
        elif last.public_note:
            found.append(Undoable("public_note", last.created_at, event=last))
    asked = await get_last_question(acting.db, tip.id, acting.officer.id)
    if asked is not None and asked.answered_at is None:
        found.append(Undoable("question", asked.created_at, question=asked))
    latest = max(found, key=lambda thing: thing.at, default=None)
    return latest if latest is not None and acting.ctx.now - latest.at < UNDO_TIME else None


async def undo(acting: Acting, tip: Tip) -> Undoable | None:
    """Take back this officer's latest change and its held notice, so the tipster is told
    nothing: a status goes back to the one before, a note or a question is removed. None when
    there is nothing to undo, or the notice has gone out (what the tipster read stays true)."""
    thing = await undoable(acting, tip)
    if thing is None:
        return None
    held = await drop_held_outbox(acting.db, tip_id=tip.id, now=acting.ctx.now)
    if held == 0 and await tells_tipster(acting, tip):
        return None
    if thing.question is not None:
        await delete_question(acting.db, thing.question)
    elif thing.kind == "public_note" and thing.event is not None:
        await delete_note_event(acting.db, tip, thing.event)
    elif thing.event is not None:
        await _status_back(acting, tip, thing.event)
    undone = thing.event.status.value if thing.event and thing.event.status else thing.kind
    await acting.audit(f"undo:{undone}", tip)
    return thing


async def _status_back(acting: Acting, tip: Tip, change: TipEvent) -> None:
    """The status the tip had before `change`, counted from when it had it."""
    earlier = [e for e in tip.events if e.status is not None and e.id != change.id]
    before = earlier[-1] if earlier else None
    status = before.status if before is not None and before.status else TipStatus.RECEIVED
    since = before.created_at if before is not None else tip.created_at
    await add_tip_event(
        acting.db,
        tip,
        now=acting.ctx.now,
        status=status,
        officer_id=acting.officer.id,
        status_since=since,
    )
    if change.status is TipStatus.CLOSED_DUPLICATE:
        await set_tip_flags(acting.db, tip, repeats_none=True)


async def add_public_note(acting: Acting, tip: Tip, note: str, *, undoable: bool = False) -> None:
    """A note the tipster reads in /status, announced to them if they can be contacted (the
    announcement held for the undo time when `undoable`)."""
    await change_status(
        acting.db,
        acting.ctx,
        tip,
        status=None,
        public_note=note,
        officer_id=acting.officer.id,
        held_until=acting.ctx.now + UNDO_TIME if undoable else None,
    )
    await acting.audit("public_note", tip)


async def add_internal_note(acting: Acting, tip: Tip, note: str) -> None:
    """A note only officers read, in the tip's history; the tipster is told nothing."""
    await add_tip_event(acting.db, tip, now=acting.ctx.now, note=note, officer_id=acting.officer.id)
    await acting.audit("internal_note", tip)


async def acknowledge(acting: Acting, tip: Tip) -> bool:
    """Someone is on it, so nobody escalates it; False if someone already acknowledged it."""
    if tip.acknowledged_at is not None:
        return False
    await set_tip_flags(
        acting.db, tip, acknowledged_at=acting.ctx.now, acknowledged_by_id=acting.officer.id
    )
    await acting.audit("acknowledge", tip)
    return True


async def assign(acting: Acting, tip: Tip, assignee: Officer) -> bool:
    """Give the tip to an officer who can see it and tell them; False if they cannot take it."""
    if assignee.chat is None or not may_see(acting.ctx, assignee, tip):
        return False
    await add_tip_event(
        acting.db,
        tip,
        now=acting.ctx.now,
        officer_id=acting.officer.id,
        assigned_officer_id=assignee.id,
    )
    await acting.audit("assign", tip, detail=f"to officer {assignee.id}")
    if assignee.id != acting.officer.id:
        await _tell_assignee(acting, tip, assignee)
    return True


async def close_as_duplicate(
    acting: Acting, tip: Tip, original: Tip, *, undoable: bool = False
) -> Tip | None:
    """Close the tip as repeating `original` (or the tip that one repeats, so every copy points
    at the first); None if that is the tip itself or a tip this officer may not see."""
    first = await first_of(acting.db, original)
    if first.id == tip.id or not may_see(acting.ctx, acting.officer, first):
        return None
    await set_status(acting, tip, TipStatus.CLOSED_DUPLICATE, note=None, undoable=undoable)
    await set_tip_flags(acting.db, tip, duplicate_of_id=first.id)
    await acting.audit("duplicate_of", tip, detail=f"of tip {first.id}")
    return first


async def first_of(db: AsyncSession, tip: Tip) -> Tip:
    """The tip a chain of duplicates starts from (the tip itself if it repeats none)."""
    seen = {tip.id}
    while tip.duplicate_of_id is not None and tip.duplicate_of_id not in seen:
        earlier = await get_tip_by_id(db, tip.duplicate_of_id)
        if earlier is None:
            break
        seen.add(earlier.id)
        tip = earlier
    return tip


async def _tell_assignee(acting: Acting, tip: Tip, assignee: Officer) -> None:
    lang = assignee.language
    notice = Reply(
        text(lang, "assign.notice", by=acting.officer.name, code=show_code(tip.code)),
        (Option(text(lang, "button.open"), OpenTip(tip.id).pack()),),
    )
    await tell_officer(acting.db, assignee.id, notice, now=acting.ctx.now, priority=Priority.NOTICE)


async def ask_tipster(acting: Acting, tip: Tip, question: str, *, undoable: bool = False) -> bool:
    """Store the officer's question; True if it goes to the tipster's chat (after the undo time
    when `undoable`), False if it waits for them to look with /status (no contact allowed)."""
    message = await add_thread_message(
        acting.db,
        tip_id=tip.id,
        role=ThreadRole.QUESTION,
        text=question,
        now=acting.ctx.now,
        officer_id=acting.officer.id,
    )
    await acting.audit("question", tip)
    if await get_contact(acting.db, tip.id) is None:
        return False
    lang = tip.language
    relay = Reply(
        text(lang, "question.to_tipster", code=show_code(tip.code), text=question),
        (Option(text(lang, "answer.button"), AnswerQuestion(message.id).pack()),),
    )
    await add_outbox(
        acting.db,
        payload=relay.to_json(),
        now=acting.ctx.now,
        priority=Priority.NOTICE,
        tip_id=tip.id,
        held_until=acting.ctx.now + UNDO_TIME if undoable else None,
    )
    await mark_relayed(acting.db, message, now=acting.ctx.now)
    return True
