"""The follow-up thread of a tip: questions from the police, answers from the tipster."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ThreadMessage, ThreadRole


async def add_thread_message(
    db: AsyncSession,
    *,
    tip_id: int,
    role: ThreadRole,
    text: str,
    now: datetime,
    officer_id: int | None = None,
    question_id: int | None = None,
) -> ThreadMessage:
    """Add a question or an answer to a tip's thread."""
    message = ThreadMessage(
        tip_id=tip_id,
        role=role,
        text=text,
        officer_id=officer_id,
        question_id=question_id,
        created_at=now,
    )
    db.add(message)
    await db.flush()
    return message


async def list_thread(db: AsyncSession, tip_id: int) -> list[ThreadMessage]:
    """A tip's thread, oldest first."""
    statement = select(ThreadMessage).where(ThreadMessage.tip_id == tip_id)
    return list(await db.scalars(statement.order_by(ThreadMessage.id)))


async def get_thread_message(db: AsyncSession, message_id: int) -> ThreadMessage | None:
    """One message of a thread."""
    return await db.get(ThreadMessage, message_id)


async def mark_answered(db: AsyncSession, question: ThreadMessage, *, now: datetime) -> None:
    """Remember that a question got its answer."""
    question.answered_at = now
    await db.flush()


async def mark_relayed(db: AsyncSession, message: ThreadMessage, *, now: datetime) -> None:
    """Remember that a question was sent to the tipster's chat."""
    message.relayed_at = now
    await db.flush()


async def mark_answers_read(db: AsyncSession, tip_id: int, *, now: datetime) -> None:
    """An officer opened the tip: its tipster's answers are read."""
    await db.execute(
        update(ThreadMessage)
        .where(
            ThreadMessage.tip_id == tip_id,
            ThreadMessage.role == ThreadRole.ANSWER,
            ThreadMessage.read_at.is_(None),
        )
        .values(read_at=now)
    )


async def get_last_question(db: AsyncSession, tip_id: int, officer_id: int) -> ThreadMessage | None:
    """The last question this officer asked the tip's tipster."""
    statement = (
        select(ThreadMessage)
        .where(
            ThreadMessage.tip_id == tip_id,
            ThreadMessage.officer_id == officer_id,
            ThreadMessage.role == ThreadRole.QUESTION,
        )
        .order_by(ThreadMessage.id.desc())
        .limit(1)
    )
    return (await db.scalars(statement)).first()


async def delete_question(db: AsyncSession, question: ThreadMessage) -> None:
    """Take back a question nobody answered (its officer undid it)."""
    await db.execute(delete(ThreadMessage).where(ThreadMessage.id == question.id))
