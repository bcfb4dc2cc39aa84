"""The start and end of every update, each one round trip on PostgreSQL.

Every private update starts with its claim, the sender's message count, conversation and
officer, and ends with the conversation's move and the answer kept: five statements, on
PostgreSQL two (data-modifying CTEs). Here a round trip costs the bot two to three times the
CPU it costs the database (bench/README.md). The start reads the conversation in its
own snapshot, taken when it begins, so the sender's lock (storage/locks.py) must be held before
it: whoever held it last has committed by then. SQLite has no data-modifying CTEs and no round
trips to save: there the statements run one after another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.answers import ADD_ANSWER, NewAnswer, add_answer
from storage.conversations import (
    MOVE_CONVERSATION,
    ConversationState,
    get_conversation_and_officer,
    move_values,
    save_conversation,
    start_conversation,
)
from storage.db import Plain, plain_row, plain_scalar
from storage.guards import claim_update, count_action, message_window
from storage.models import UTCDateTime

MESSAGE = "message"  # the rate bucket every private update counts in

_START_ON_POSTGRESQL = Plain(
    text(
        "WITH claimed AS ("
        ' INSERT INTO processed_update ("key", created_at) VALUES (:key, :now)'
        ' ON CONFLICT ("key") DO NOTHING RETURNING "key"'
        "), counted AS ("
        " INSERT INTO rate_bucket (sender, action, window_start, count)"
        " SELECT :sender, :action, :window_start, 1 FROM claimed WHERE :private"
        " ON CONFLICT (sender, action, window_start)"
        " DO UPDATE SET count = rate_bucket.count + 1 RETURNING count"
        ") SELECT (SELECT count(*) FROM claimed) AS claimed,"
        " (SELECT count FROM counted) AS sent,"
        " (SELECT officer.id FROM officer WHERE officer.channel = :channel"
        " AND officer.chat = :chat AND officer.revoked_at IS NULL) AS officer_id,"
        " conversation.id, conversation.language, conversation.step, conversation.draft,"
        " conversation.updated_at"
        " FROM (SELECT 1) AS one LEFT OUTER JOIN conversation"
        " ON conversation.channel = :channel AND conversation.sender = :sender AND :private"
    )
    .bindparams(
        bindparam("now", type_=UTCDateTime()),
        bindparam("window_start", type_=UTCDateTime()),
        bindparam("private", type_=Boolean()),
    )
    .columns(
        claimed=Integer(),
        sent=Integer(),
        officer_id=Integer(),
        id=Integer(),
        language=String(),
        step=String(),
        draft=JSON(),
        updated_at=UTCDateTime(),
    )
)

_MOVED_AND_ANSWERED = Plain(ADD_ANSWER.add_cte(MOVE_CONVERSATION.cte("moved")))


@dataclass(frozen=True, slots=True)
class UpdateStart:
    """Who sent an update and where: what its start needs to know."""

    key: str
    channel: str
    sender: str
    chat: str
    private: bool
    now: datetime


@dataclass(frozen=True, slots=True)
class Started:
    """A claimed update's sender as the handler finds them.

    Outside a private chat nothing is counted or read: `sent` is 0, `conversation` None.
    """

    sent: int  # the sender's messages in this window, this one included
    conversation: ConversationState | None
    officer_id: int | None


async def start_update(db: AsyncSession, start: UpdateStart) -> Started | None:
    """Claim the update and read its sender; None when it was handled before (a redelivery).

    On PostgreSQL the sender's lock must be held already.
    """
    if db.get_bind().dialect.name == "postgresql":
        return await _start_in_one_statement(db, start)
    if not await claim_update(db, key=start.key, now=start.now):
        return None
    if not start.private:
        return Started(0, None, None)
    window = message_window(start.now)
    sent = await count_action(db, sender=start.sender, action=MESSAGE, window_start=window)
    conversation, officer_id = await get_conversation_and_officer(
        db,
        channel=start.channel,
        sender=start.sender,
        chat=start.chat,
        language="vi",
        now=start.now,
    )
    return Started(sent, conversation, officer_id)


async def _start_in_one_statement(db: AsyncSession, start: UpdateStart) -> Started | None:
    values = {
        "key": start.key,
        "now": start.now,
        "sender": start.sender,
        "action": MESSAGE,
        "window_start": message_window(start.now),
        "private": start.private,
        "channel": start.channel,
        "chat": start.chat,
    }
    row = await plain_row(db, _START_ON_POSTGRESQL, values)
    if row is None or not row[0]:
        return None
    _claimed, sent, officer_id, *conversation = row
    if not start.private:
        return Started(0, None, None)
    if conversation[0] is None:  # first contact
        created = await start_conversation(db, start.channel, start.sender, "vi", start.now)
        return Started(int(sent), created, officer_id)
    return Started(int(sent), ConversationState(*conversation), officer_id)


async def end_update(db: AsyncSession, conversation: ConversationState | None) -> None:
    """Write the conversation's move, for an update whose answer is not kept."""
    if conversation is not None:
        await save_conversation(db, conversation)


async def end_update_answering(
    db: AsyncSession, conversation: ConversationState | None, answer: NewAnswer
) -> int:
    """Write the conversation's move and keep the answer; returns the answer's id."""
    if conversation is None or not conversation.moved:
        return await add_answer(db, answer)
    if db.get_bind().dialect.name != "postgresql":
        await save_conversation(db, conversation)
        return await add_answer(db, answer)
    values = {**answer.values(), **move_values(conversation)}
    answer_id = int(await plain_scalar(db, _MOVED_AND_ANSWERED, values))
    conversation.moved = False
    return answer_id
