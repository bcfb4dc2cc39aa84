"""What a feature brings to the conversation, declared in its own room and merged by dispatch.

A feature names its commands, the steps it leads a person through and the buttons it answers;
handlers/dispatch.py merges every feature's declaration into one and routes by it, so a new
feature is a new room and one line there, and no feature imports another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from handlers.common.types import Reply
from handlers.conversation.buttons import Button
from handlers.conversation.turn import Handler, Step, StepName, Turn

# A pressed button's handler gets the button read back (None for data its namespace cannot
# read: a forged or stale button, to be refused in that feature's words).
ButtonHandler = Callable[[Turn, Any], Awaitable[list[Reply]]]
# A message sent outside any step that a feature may take (a patrol member's pin); None: not its.
Stray = Callable[[Turn], Awaitable[list[Reply] | None]]


@dataclass(frozen=True, kw_only=True)
class Feature:
    """A feature's part of the conversation.

    - `commands`: for anyone; `officer_commands`: for enrolled, unrevoked officers only (anyone
      else gets exactly the unknown-command answer).
    - `deep_links`: a /start payload's prefix ("off-", "pt-") and what it opens.
    - `draft_steps`: the steps of a tip being written, asked again after any detour.
    - `side_steps`: detours taken aside from a draft; `officer_steps` the same for officers only
      (one revoked mid-way is refused); `reminders`, the question such a step repeats when the
      person is lost (otherwise "type an answer").
    - `buttons`: by the button's class, or by a class above it (a whole namespace).
    - `strays`: tried in turn for a message that answers no step.
    """

    commands: Mapping[str, Handler] = field(default_factory=dict)
    officer_commands: Mapping[str, Handler] = field(default_factory=dict)
    deep_links: Mapping[str, Handler] = field(default_factory=dict)
    draft_steps: Mapping[StepName, Step] = field(default_factory=dict)
    side_steps: Mapping[StepName, Handler] = field(default_factory=dict)
    officer_steps: Mapping[StepName, Handler] = field(default_factory=dict)
    reminders: Mapping[StepName, Callable[[Turn], Reply]] = field(default_factory=dict)
    buttons: Mapping[type[Button], ButtonHandler] = field(default_factory=dict)
    strays: tuple[Stray, ...] = ()

    def button_handler(self, kind: type[Button]) -> ButtonHandler | None:
        """Who answers a button of this class: its own entry, or the nearest class above it."""
        return next((self.buttons[cls] for cls in kind.__mro__ if cls in self.buttons), None)


def merged(*features: Feature) -> Feature:
    """Every feature's declarations in one; two features claiming one command, step or button
    is a mistake, refused when the program starts."""
    tables: dict[str, dict[Any, Any]] = {}
    strays: list[Stray] = []
    for feature in features:
        strays += feature.strays
        for table in fields(Feature):
            if table.name == "strays":
                continue
            into = tables.setdefault(table.name, {})
            entries: Mapping[Any, Any] = getattr(feature, table.name)
            clash = into.keys() & entries.keys()
            if clash:
                raise ValueError(f"{table.name}: {sorted(map(str, clash))} claimed twice")
            into.update(entries)
    return Feature(**tables, strays=tuple(strays))
