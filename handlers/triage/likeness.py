"""Which tips may repeat the one an officer reads: the same place and kind within a few days,
the same words, a pin nearby. Suggested on the tip's page, linked only by the officer."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import scope_of
from handlers.common.texts import text
from handlers.common.tip_text import excerpt
from handlers.common.types import Context
from storage.folding import fold
from storage.models import Officer, Tip
from storage.tips import list_tips_near

WINDOW = timedelta(days=3)
NEARBY_METRES = 300
# About NEARBY_METRES of latitude; the longitude box is wider than needed, and metres() decides.
NEARBY_DEGREES = 0.004
CANDIDATES = 50
SHOWN = 5
# Syllables too common in Vietnamese to say two stories are alike (accents folded away).
COMMON = frozenset(
    [
        "co",
        "la",
        "va",
        "o",
        "cua",
        "nguoi",
        "cac",
        "nhung",
        "mot",
        "da",
        "dang",
        "khong",
        "cho",
        "voi",
        "tai",
        "tren",
        "duoc",
        "thi",
        "nay",
        "do",
        "de",
        "toi",
        "ban",
        "em",
        "anh",
        "chi",
        "ong",
        "ba",
        "ho",
        "no",
        "the",
        "nhu",
        "rat",
        "roi",
        "con",
        "sau",
        "truoc",
        "luc",
        "khi",
        "trong",
        "ngoai",
    ]
)
# Enough to show: the same area and kind (0.5) with a fifth of the words or a pin nearby, or
# most words shared. The same kind alone is every tip of a busy commune's week: noise.
ENOUGH = 0.7


@dataclass(frozen=True, slots=True)
class Likely:
    """A tip that may be the same event, and why the desk thinks so."""

    tip_id: int
    code: str
    excerpt: str
    status_name: str
    earlier: bool
    same_kind: bool  # the same area and category
    shared_words: int  # percent of their words in common
    metres: int | None  # between the two pins, when both have one


def words(story: str) -> set[str]:
    """A story's telling words, accents folded away."""
    return {w for w in re.findall(r"\w+", fold(story)) if len(w) > 1 and w not in COMMON}


def metres_between(a: Tip, b: Tip) -> float | None:
    """How far apart two tips' pins are (None when either has none); flat earth is close
    enough over a few hundred metres."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    assert a.latitude is not None and a.longitude is not None
    assert b.latitude is not None and b.longitude is not None
    north = math.radians(b.latitude - a.latitude)
    east = math.radians(b.longitude - a.longitude) * math.cos(math.radians(a.latitude))
    return 6_371_000 * math.hypot(north, east)


async def likely_duplicates(
    db: AsyncSession, ctx: Context, officer: Officer, tip: Tip
) -> tuple[Likely, ...]:
    """Up to five tips in this officer's scope most likely to tell the same event."""
    mine = words(tip.description)
    nearby = await list_tips_near(
        db, scope_of(ctx, officer), tip, within=WINDOW, degrees=NEARBY_DEGREES, limit=CANDIDATES
    )
    scored = []
    for other in nearby:
        theirs = words(other.description)
        shared = len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0
        apart = metres_between(tip, other)
        close = 1 - apart / NEARBY_METRES if apart is not None and apart <= NEARBY_METRES else 0
        same_kind = other.area == tip.area and other.category == tip.category
        score = 0.5 * same_kind + shared + close
        if score >= ENOUGH:
            scored.append((score, other, shared, apart, same_kind))
    scored.sort(key=lambda found: (-found[0], found[1].id))
    return tuple(
        Likely(
            tip_id=other.id,
            code=show_code(other.code),
            excerpt=excerpt(other.description, 120),
            status_name=text(officer.language, STATUS_NAMES[other.status]),
            earlier=(other.created_at, other.id) < (tip.created_at, tip.id),
            same_kind=same_kind,
            shared_words=round(shared * 100),
            metres=round(apart) if apart is not None else None,
        )
        for _, other, shared, apart, same_kind in scored[:SHOWN]
    )
