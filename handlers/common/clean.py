"""What a person types, without the invisible characters that could disguise or garble it."""

from __future__ import annotations

import re

# Removed, longest first: ANSI escape sequences (ESC [ parameters, intermediates, final byte),
# which colour or move the cursor in an officer's terminal or log viewer; C0 and C1 control
# characters but newline and tab, NUL included (PostgreSQL refuses NUL in text); the bidi
# marks, embeddings, overrides and isolates that make text read in another order than it is
# stored ("gpj.exe" shown as "exe.jpg"); and lone surrogates, which cannot be stored as UTF-8.
_UNWANTED = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]"
    "|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def clean_text(typed: str) -> str:
    """The text as the person meant it to be read: control, bidi and escape characters gone."""
    return _UNWANTED.sub("", typed)
