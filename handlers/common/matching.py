"""Which option a typed answer means: one rule in the console, on Telegram and on Zalo."""

from __future__ import annotations

import re

from handlers.common.types import Option
from storage.folding import fold

# A label's emoji and punctuation are decoration: "📝 Gửi tin báo" is picked by "gui tin bao".
_DECORATION = re.compile(r"[^\w\s]", re.UNICODE)
# A beginning shorter than this ("k", "ma") means too many things to be taken as a choice.
SHORTEST_BEGINNING = 3


def typed_words(text: str) -> str:
    """Text as plain words: lower case, no accents, no emoji or punctuation."""
    return " ".join(_DECORATION.sub(" ", fold(text)).split())


def match_option(
    options: tuple[Option, ...], text: str, *, beginnings: bool = True
) -> Option | None:
    """The option a typed answer means: its number, its words (accents optional), or a
    unique beginning of its words (unless `beginnings` is off, where a short line may be
    free text); None if it means none of them, or several."""
    typed = text.strip()
    if typed.isdigit():
        number = int(typed)
        return options[number - 1] if 1 <= number <= len(options) else None
    words = typed_words(typed)
    if not words:
        return None
    exact = [option for option in options if typed_words(option.label) == words]
    if exact or not beginnings:
        return exact[0] if exact else None
    starts = [
        option
        for option in options
        if len(words) >= SHORTEST_BEGINNING and typed_words(option.label).startswith(words)
    ]
    return starts[0] if len(starts) == 1 else None
