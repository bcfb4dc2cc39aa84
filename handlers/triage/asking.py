"""The officer's side of the two-way anonymous dialogue: a question typed for a tip's tipster,
stored, and relayed when the tipster allowed contact (tips/answers.py takes the answers)."""

from __future__ import annotations

from handlers.common.codes import show_code
from handlers.common.scopes import may_see
from handlers.common.texts import N_
from handlers.common.tip_text import THREAD_TEXT_CHARS
from handlers.common.types import Kind, Reply
from handlers.conversation.buttons import AskTipster
from handlers.conversation.turn import StepName, Turn, back_to_draft
from handlers.triage.actions import acting_of, ask_tipster
from handlers.triage.queue import way_on
from storage.models import Tip
from storage.tips import get_tip_by_id


async def ask_question(turn: Turn, tip: Tip, _: AskTipster) -> list[Reply]:
    """The officer's "ask the tipster" button: wait for the question's text."""
    turn.detour(StepName.OFFICER_ASK, tip=tip.id)
    return [turn.say("ask.question", code=show_code(tip.code))]


async def answer_officer_question(turn: Turn) -> list[Reply]:
    """Store the question; relay it now if the tipster allowed contact, else it waits."""
    assert turn.officer is not None
    tip = await get_tip_by_id(turn.db, int(turn.detour_data.get("tip", 0)))
    if tip is None or not may_see(turn.ctx, turn.officer, tip):
        return await back_to_draft(turn, [turn.say("not.allowed")])
    question = turn.msg.text.strip()[:THREAD_TEXT_CHARS] if turn.msg.kind is Kind.TEXT else ""
    if not question:
        return [turn.say("need.text")]
    relayed = await ask_tipster(acting_of(turn), tip, question)
    said = N_("question.relayed") if relayed else N_("question.waiting")
    return await back_to_draft(turn, [way_on(turn, tip).say(said, code=show_code(tip.code))])
