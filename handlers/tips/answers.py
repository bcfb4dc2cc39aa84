"""The tipster's side of the two-way anonymous dialogue: the thread as they see it, and their
answers relayed to the officer who asked; nobody learns who the other is."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.common.codes import show_code
from handlers.common.notices import tell_officer
from handlers.common.texts import decimal, text
from handlers.common.tip_text import THREAD_TEXT_CHARS
from handlers.common.types import Kind, Option, Priority, Reply
from handlers.conversation.buttons import AnswerQuestion, OpenTip, TipsterButton
from handlers.conversation.turn import StepName, Turn, back_to_draft
from storage.models import ThreadMessage, ThreadRole, Tip
from storage.officers import get_officer
from storage.thread import (
    add_thread_message,
    get_thread_message,
    list_thread,
    mark_answered,
)
from storage.tips import get_contact, get_tip_by_id

# After /status with the right passphrase, this chat may answer that tip's questions for a while.
VERIFIED_FOR = timedelta(hours=1)


async def thread_for_tipster(turn: Turn, tip: Tip) -> tuple[list[str], tuple[Option, ...]]:
    """The thread as the tipster sees it, and a button for each question still unanswered."""
    lines, buttons = [], []
    for message in await list_thread(turn.db, tip.id):
        if message.role is ThreadRole.QUESTION:
            lines.append(turn.t("thread.question", text=message.text))
            if message.answered_at is None:
                buttons.append(turn.option("answer.button", AnswerQuestion(message.id).pack()))
        else:
            lines.append(turn.t("thread.answer", text=message.text))
    return lines, tuple(buttons)


def verified_mark(tip: Tip, now: datetime) -> dict[str, object]:
    """What a correct passphrase leaves in the conversation: this chat may answer for a while."""
    return {"verified": {"tip": tip.id, "at": now.isoformat()}}


async def _may_answer(turn: Turn, tip: Tip) -> bool:
    """Only the tipster: the sealed contact opens to this chat, or the passphrase was just given."""
    contact = await get_contact(turn.db, tip.id)
    if contact is not None:
        address = turn.ctx.sealer.open(contact.sealed, bound_to=tip.code)
        if address == f"{turn.msg.channel}:{turn.msg.chat}":
            return True
    verified = turn.conv.draft.get("verified") or {}
    if verified.get("tip") != tip.id:
        return False
    return datetime.fromisoformat(str(verified["at"])) > turn.ctx.now - VERIFIED_FOR


async def tipster_button(turn: Turn, button: TipsterButton | None) -> list[Reply]:
    """The tipster's "answer" button: checked against the sealed contact or the passphrase."""
    pressed = button.question_id if isinstance(button, AnswerQuestion) else None
    question = await get_thread_message(turn.db, pressed) if pressed else None
    tip = await get_tip_by_id(turn.db, question.tip_id) if question else None
    if question is None or tip is None or question.role is not ThreadRole.QUESTION:
        return [turn.say("answer.not_allowed")]
    if not await _may_answer(turn, tip):
        return [turn.say("answer.not_allowed")]
    turn.detour(StepName.ANSWER, question=question.id)
    return [turn.say("ask.answer", code=show_code(tip.code))]


async def answer_text(turn: Turn) -> list[Reply]:
    """Store the tipster's answer and relay it to the officer who asked."""
    question = await get_thread_message(turn.db, int(turn.detour_data.get("question", 0)))
    tip = await get_tip_by_id(turn.db, question.tip_id) if question else None
    if question is None or tip is None or not await _may_answer(turn, tip):
        return await back_to_draft(turn, [turn.say("answer.not_allowed")])
    answer = turn.msg.text.strip() if turn.msg.kind is Kind.TEXT else ""
    if not answer:
        return [turn.say("need.text")]
    if len(answer) > THREAD_TEXT_CHARS:
        # Cutting an answer would put words in the tipster's mouth: ask for a shorter one.
        return [_too_long(turn, answer)]
    await add_thread_message(
        turn.db,
        tip_id=tip.id,
        role=ThreadRole.ANSWER,
        text=answer,
        now=turn.ctx.now,
        officer_id=question.officer_id,
        question_id=question.id,
    )
    await mark_answered(turn.db, question, now=turn.ctx.now)
    await _relay_answer(turn, tip, question, answer)
    return await back_to_draft(turn, [turn.say("answer.sent")])


def _too_long(turn: Turn, answer: str) -> Reply:
    """How long the answer is against the limit; nothing was sent, so it can come shorter."""
    length = decimal(turn.lang, len(answer), 0)
    limit = decimal(turn.lang, THREAD_TEXT_CHARS, 0)
    return Reply(turn.tn("answer.too_long", len(answer), length=length, limit=limit))


async def _relay_answer(turn: Turn, tip: Tip, question: ThreadMessage, answer: str) -> None:
    officer = await get_officer(turn.db, question.officer_id) if question.officer_id else None
    if officer is None or officer.revoked_at is not None:
        return  # the answer stays in the thread for whoever handles the tip now
    relay = Reply(
        text(
            officer.language,
            "answer.to_officer",
            code=show_code(tip.code),
            question=question.text[:200],
            text=answer,
        ),
        (Option(text(officer.language, "button.open"), OpenTip(tip.id).pack()),),
    )
    await tell_officer(turn.db, officer.id, relay, now=turn.ctx.now, priority=Priority.NOTICE)
