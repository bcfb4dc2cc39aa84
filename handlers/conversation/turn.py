"""One update being handled: who (as a pseudonym), where they are, and what they may pick."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.matching import match_option, typed_words
from handlers.common.texts import text, text_n
from handlers.common.types import Context, Incoming, Kind, Option, Reply
from storage.conversations import IDLE, ConversationState, move_conversation
from storage.models import Officer

Handler = Callable[["Turn"], Awaitable[list[Reply]]]


class StepName(StrEnum):
    """Every step a conversation can be at, as its row stores it."""

    IDLE = IDLE  # where housekeeping puts a stale draft (storage/conversations.py)
    CATEGORY = "category"
    AREA = "area"
    PLACE = "place"
    DESCRIPTION = "description"
    WHEN = "when"
    URGENT = "urgent"
    REVIEW = "review"
    EDIT = "edit"
    STATUS_CODE = "status.code"
    STATUS_PASS = "status.pass"
    FORGET_CODE = "forget.code"
    FORGET_PASS = "forget.pass"
    FORGET_CONFIRM = "forget.confirm"
    OFFICER_ASK = "off.ask"
    OFFICER_CLOSE = "off.close"
    OFFICER_DUPLICATE = "off.duplicate"
    OFFICER_NOTE = "off.note"
    OFFICER_INVITE = "off.invite"
    OFFICER_MISSED = "off.missed"
    PATROL_NAME = "pt.name"
    PATROL_START = "pt.start"
    PATROL_CHECKPOINT = "pt.checkpoint"
    PATROL_INCIDENT = "pt.incident"
    PATROL_END = "pt.end"
    ANSWER = "answer"


def step_named(stored: str) -> StepName:
    """A stored step; one this version does not know (an older one's) is the idle step."""
    try:
        return StepName(stored)
    except ValueError:
        return StepName.IDLE


@dataclass(slots=True)
class Turn:
    """The state a handler works on for one update; changes are flushed, committed by bot/.

    `draft_steps` are the steps of a tip being written (the tips feature's, merged by
    dispatch): after a detour the person is asked their step's question again.
    """

    msg: Incoming
    db: AsyncSession
    ctx: Context
    conv: ConversationState
    officer: Officer | None = None
    draft_steps: Mapping[StepName, Step] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        """The person's language."""
        return self.conv.language

    @property
    def step(self) -> StepName:
        """The step the person is at."""
        return step_named(self.conv.step)

    @property
    def draft(self) -> dict[str, Any]:
        """A copy of the draft; write it back with goto()."""
        return dict(self.conv.draft)

    def t(self, key: str, **values: Any) -> str:
        """A catalogue text in the person's language."""
        return text(self.lang, key, **values)

    def tn(self, key: str, count: int, **values: Any) -> str:
        """A counted catalogue text ("1 file", "3 files") in the person's language."""
        return text_n(self.lang, key, count, **values)

    def option(self, key: str, data: str) -> Option:
        """A button labelled from the catalogue."""
        return Option(self.t(key), data)

    def goto(self, step: StepName, draft: dict[str, Any] | None = None) -> None:
        """Move to a step, keeping or replacing the draft."""
        move_conversation(
            self.conv, step=step, draft=self.draft if draft is None else draft, now=self.ctx.now
        )

    def reset(self) -> None:
        """Back to the start, with no draft."""
        self.goto(StepName.IDLE, {})

    @property
    def detour_data(self) -> dict[str, Any]:
        """What the current side step (a lookup, an officer's note...) has collected."""
        return dict(self.conv.draft.get("detour", {}))

    def detour(self, step: StepName, **data: Any) -> None:
        """Go to a side step, remembering the step (and tip draft) to come back to."""
        draft = self.draft
        draft.setdefault("resume", self.step)
        draft["detour"] = {**draft.get("detour", {}), **data} if step == self.step else data
        self.goto(step, draft)

    def end_detour(self) -> None:
        """Leave the side step: back where the person was, their draft untouched."""
        draft = self.draft
        resume = step_named(str(draft.pop("resume", StepName.IDLE)))
        draft.pop("detour", None)
        self.goto(resume, draft if resume is not StepName.IDLE else {})

    def say(self, key: str, **values: Any) -> Reply:
        """A plain message from the catalogue."""
        return Reply(self.t(key, **values))


@dataclass(frozen=True, slots=True)
class Step:
    """How a step asks its question, which buttons it takes, and what it does with the answer."""

    prompt: Callable[[Turn], Reply]
    answer: Handler
    buttons: Callable[[Turn], set[str]] | None = None

    def takes(self, turn: Turn, data: str) -> bool:
        """Whether a pressed button's data is an answer to this step."""
        if self.buttons is not None:
            return data in self.buttons(turn)
        return any(option.data == data for option in self.prompt(turn).options)


async def back_to_draft(turn: Turn, replies: list[Reply]) -> list[Reply]:
    """End a side step and carry on with the tip being written, if there is one."""
    turn.end_detour()
    return [*replies, *draft_question(turn)]


def draft_question(turn: Turn) -> list[Reply]:
    """The question of the tip being written, asked again (nothing when none is)."""
    step = turn.draft_steps.get(turn.step)
    return [] if step is None else [turn.say("resume"), step.prompt(turn)]


def picked(
    msg: Incoming,
    options: tuple[Option, ...],
    extra: Callable[[str], str] | None = None,
    *,
    beginnings: bool = True,
) -> str:
    """The option a person chose by button, or by typing its number or words (common/matching).

    `extra` turns typed words (typed_words) into option data, or "" (e.g. an area's short
    name), asked only when the person typed and no option matched.
    Returns the option's data, or "" when nothing matches.
    """
    if msg.kind is Kind.CHOICE:
        return msg.choice
    if msg.kind is not Kind.TEXT:
        return ""
    option = match_option(options, msg.text, beginnings=beginnings)
    if option is not None:
        return option.data
    return extra(typed_words(msg.text)) if extra else ""
