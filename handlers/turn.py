"""One update being handled: who (as a pseudonym), where they are, and what they may pick."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.matching import match_option, typed_words
from handlers.texts import text
from handlers.types import Context, Incoming, Kind, Option, Reply
from storage.conversations import IDLE, ConversationState, move_conversation
from storage.models import Officer

Handler = Callable[["Turn"], Awaitable[list[Reply]]]


@dataclass(slots=True)
class Turn:
    """The state a handler works on for one update; changes are flushed, committed by bot/."""

    msg: Incoming
    db: AsyncSession
    ctx: Context
    conv: ConversationState
    officer: Officer | None = None

    @property
    def lang(self) -> str:
        """The person's language."""
        return self.conv.language

    @property
    def step(self) -> str:
        """The step the person is at."""
        return self.conv.step

    @property
    def draft(self) -> dict[str, Any]:
        """A copy of the draft; write it back with goto()."""
        return dict(self.conv.draft)

    def t(self, key: str, **values: Any) -> str:
        """A catalogue text in the person's language."""
        return text(self.lang, key, **values)

    def option(self, key: str, data: str) -> Option:
        """A button labelled from the catalogue."""
        return Option(self.t(key), data)

    def goto(self, step: str, draft: dict[str, Any] | None = None) -> None:
        """Move to a step, keeping or replacing the draft."""
        move_conversation(
            self.conv, step=step, draft=self.draft if draft is None else draft, now=self.ctx.now
        )

    def reset(self) -> None:
        """Back to the start, with no draft."""
        self.goto(IDLE, {})

    @property
    def detour_data(self) -> dict[str, Any]:
        """What the current side step (a lookup, an officer's note...) has collected."""
        return dict(self.conv.draft.get("detour", {}))

    def detour(self, step: str, **data: Any) -> None:
        """Go to a side step, remembering the step (and tip draft) to come back to."""
        draft = self.draft
        draft.setdefault("resume", self.step)
        draft["detour"] = {**draft.get("detour", {}), **data} if step == self.step else data
        self.goto(step, draft)

    def end_detour(self) -> None:
        """Leave the side step: back where the person was, their draft untouched."""
        draft = self.draft
        resume = str(draft.pop("resume", IDLE))
        draft.pop("detour", None)
        self.goto(resume, draft if resume != IDLE else {})

    def say(self, key: str, **values: Any) -> Reply:
        """A plain message from the catalogue."""
        return Reply(self.t(key, **values))


def picked(msg: Incoming, options: tuple[Option, ...], extra: dict[str, str] | None = None) -> str:
    """The option a person chose by button, or by typing its number or words (handlers/matching.py).

    `extra` maps more typed words (typed_words) to option data (e.g. an area's short name).
    Returns the option's data, or "" when nothing matches.
    """
    if msg.kind is Kind.CHOICE:
        return msg.choice
    if msg.kind is not Kind.TEXT:
        return ""
    option = match_option(options, msg.text)
    if option is not None:
        return option.data
    return (extra or {}).get(typed_words(msg.text), "")
