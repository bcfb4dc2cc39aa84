"""How a tip's parts read wherever it is shown: when it happened, and a one-line excerpt."""

from __future__ import annotations

from handlers.common.texts import N_

WHEN = {
    "now": N_("when.now"),
    "today": N_("when.today"),
    "earlier": N_("when.earlier"),
    "unknown": N_("when.unknown"),
}
EXCERPT_CHARS = 120
# The longest question or answer passed between an officer and a tipster.
THREAD_TEXT_CHARS = 2000


def when_label(when: str | None) -> str:
    """The message id naming when something happened ("unknown" for anything else)."""
    return WHEN.get(when or "unknown", WHEN["unknown"])


def excerpt(description: str, chars: int = EXCERPT_CHARS) -> str:
    """The first characters of a tip, on one line, for alerts and lists."""
    flat = " ".join(description.split())
    return flat if len(flat) <= chars else flat[: chars - 1].rstrip() + "…"
