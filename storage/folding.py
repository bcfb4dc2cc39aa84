"""Text folded for forgiving matches: lower case, no accents, 'đ' read as 'd'.

Here, at the bottom of the layers, so that the storage's search and the handlers' matching of
typed answers fold alike."""

from __future__ import annotations

import functools
import unicodedata


def fold(text: str) -> str:
    """Lower-case text without Vietnamese accents, for forgiving matches ('ma tuy' ~ 'Ma túy')."""
    # Every typed answer is matched against the same button labels and commune names, some
    # sixteen folds per update: short texts are remembered, long ones (a story) are not.
    return _fold_short(text) if len(text) <= FOLD_CACHED_LENGTH else _fold(text)


FOLD_CACHED_LENGTH = 64


@functools.lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    # 'đ' is a letter of its own, not 'd' with a mark: NFD leaves it whole.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())
