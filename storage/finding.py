"""The officers' desk: the tips an officer looks for, by filters and by words, accents optional."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    and_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import one_of
from storage.folding import fold
from storage.models import ThreadMessage, ThreadRole, Tip, TipStatus
from storage.tips import (
    OPEN_STATUSES,
    Scope,
    _count,
    _ids,
    _in_scope,
    _queue_order,
    _tips_in_order,
)

# Past this many matching tips the desk says "more than 10,000" instead of counting on: an
# exact count of a million tips costs more than the page itself.
COUNT_LIMIT = 10_000

CLOSED_STATUSES = tuple(status for status in TipStatus if status not in OPEN_STATUSES)

# PostgreSQL indexes no word over 2,047 bytes: a longer one could be found on neither engine.
LONGEST_WORD_BYTES = 2047


@dataclass(frozen=True, slots=True)
class TipFilter:
    """What an officer narrows the desk's list to; each field left empty narrows nothing."""

    statuses: frozenset[TipStatus] = frozenset()  # empty: any
    categories: frozenset[str] = frozenset()  # empty: any
    areas: frozenset[str] | None = None  # a unit's area codes, within the scope; None: all of it
    since: datetime | None = None  # filed at or after
    until: datetime | None = None  # filed before
    unchanged_since: datetime | None = None  # status unchanged since then (overdue, if open)
    urgent: bool = False  # only urgent tips
    assigned_to: int | None = None  # only tips assigned to this officer
    unread_answers: bool = False  # only tips with a tipster's answer nobody has read
    hide_duplicates: bool = False  # leave out tips closed as a duplicate of another
    words: str = ""  # every word must begin a word of the tip's text, place or code


class Found(NamedTuple):
    """One page of the tips an officer looks for, and how many there are in all."""

    tips: list[Tip]
    total: int  # counted up to COUNT_LIMIT
    more: bool  # more than COUNT_LIMIT match: `total` is COUNT_LIMIT


_WORD = re.compile(r"[^\W_]+")


def search_terms(words: str) -> list[str]:
    """The words a search looks for: folded, each a run of letters and digits, each once."""
    return list(dict.fromkeys(_WORD.findall(fold(words))))


def _fts5_query(terms: list[str]) -> str:
    # Each term a quoted string, so nothing in it is FTS5 syntax, then a prefix; side by side
    # they must all match. A term is letters and digits only: it holds no quote to escape.
    return " ".join(f'"{term}"*' for term in terms)


def _tsquery(terms: list[str]) -> str:
    # Read as a tsquery's own text, not parsed again into words: a term is looked up as it is
    # (the index lower-cases as fold did), so none can be dropped and the search never widens.
    return " & ".join(f"'{term}':*" for term in terms)


# The words of a tip as migration 0019 indexes them on PostgreSQL, the same expression so that
# the planner finds that index (tests/test_finding.py checks it does).
_POSTGRESQL_WORDS = (
    "to_tsvector('simple', lower(translate(regexp_replace(regexp_replace(normalize("
    "description || ' ' || coalesce(place, '') || ' ' || code"
    " || ' ' || substr(code, 1, 4) || ' ' || substr(code, 5), NFD),"
    r" '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'),"
    " '[!-/:-@[-`{-~]', ' ', 'g'), 'đĐ', 'dD')))"
)
# The same words without their places in the text (a search asks for none): the expression of
# migration 0021's index of the open tips alone. Written apart from the one above so that the
# planner reads that small index for open tips: it takes the whole one for cheap, but a
# common word's prefix there is tens of thousands of entries (`xe:*`: 386,000, 40-90 ms).
_POSTGRESQL_OPEN_WORDS = f"strip({_POSTGRESQL_WORDS})"


# How a search finds its closed tips on SQLite, which knows nothing of how many an FTS5 query
# matches. Up to SHORT_WALK closed tips meet the other filters (a unit's, a period's): each is
# checked. More, and past MANY_MATCHES of them matching: the date index is walked, each tip it
# passes checked. Fewer: every match is looked up and they are sorted.
SHORT_WALK = 50_000
MANY_MATCHES = 5_000


@dataclass(frozen=True, slots=True)
class _Search:
    """The search's condition two ways: `starting` reads the matching tips first (best when
    they are few), `checking` checks each tip an index walks past (best when they are many);
    and as said of open tips alone (`among_open`)."""

    starting: ColumnElement[bool]
    checking: ColumnElement[bool]
    among_open: ColumnElement[bool]
    weighed: bool  # the planner knows how many match, and picks the way itself


def _search(db: AsyncSession, terms: list[str]) -> _Search:
    if db.get_bind().dialect.name != "sqlite":
        # PostgreSQL's planner weighs the index's own statistics: one form serves, but for
        # open tips, whose own index it would not otherwise pick.
        query = cast(bindparam("words", _tsquery(terms)), TSQUERY)
        condition = literal_column(_POSTGRESQL_WORDS).bool_op("@@")(query)
        among_open = literal_column(_POSTGRESQL_OPEN_WORDS).bool_op("@@")(query)
        return _Search(condition, condition, among_open, weighed=True)
    matching = text("SELECT rowid FROM tip_words WHERE tip_words MATCH :words")
    found = matching.bindparams(words=_fts5_query(terms)).columns(column("rowid", Integer))
    # SQLite knows nothing of how many an FTS5 query matches, and always reads the matches
    # first; `id + 0` keeps it from doing so.
    checking = (Tip.id + 0).in_(found)
    return _Search(Tip.id.in_(found), checking, checking, weighed=False)


def _narrowed(scope: Scope, wanted: TipFilter) -> list[Any]:
    """The conditions every tip found meets, whatever its status, but its words."""
    conditions: list[Any] = [_in_scope(scope)]
    if wanted.areas is not None:
        areas = wanted.areas if scope.areas is None else wanted.areas & scope.areas
        conditions.append(Tip.area.in_(sorted(areas)) if areas else false())
    if wanted.categories:
        conditions.append(Tip.category.in_(sorted(wanted.categories)))
    if wanted.since is not None:
        conditions.append(Tip.created_at >= wanted.since)
    if wanted.until is not None:
        conditions.append(Tip.created_at < wanted.until)
    if wanted.unchanged_since is not None:
        conditions.append(Tip.status_at < wanted.unchanged_since)
    if wanted.urgent:
        conditions.append(Tip.urgent.is_(True))
    if wanted.assigned_to is not None:
        conditions.append(Tip.assigned_officer_id == wanted.assigned_to)
    if wanted.unread_answers:
        unread = select(ThreadMessage.tip_id).where(
            ThreadMessage.role == ThreadRole.ANSWER, ThreadMessage.read_at.is_(None)
        )
        conditions.append(Tip.id.in_(unread))
    if wanted.hide_duplicates:
        conditions.append(
            or_(Tip.status != TipStatus.CLOSED_DUPLICATE, Tip.duplicate_of_id.is_(None))
        )
    return conditions


def _open_ones(statuses: list[TipStatus]) -> ColumnElement[bool]:
    # The statuses written into the statement, not sent apart: PostgreSQL then sees that a
    # search of open tips may read the open tips' own word index (migration 0021), which a
    # plan made for any statuses could not.
    chosen: BindParameter[list[TipStatus]] = bindparam(
        "open_statuses", statuses, expanding=True, literal_execute=True
    )
    return Tip.status.in_(chosen)


async def _page_and_count(
    db: AsyncSession, where: ColumnElement[bool], order: tuple[Any, ...], *, offset: int, limit: int
) -> tuple[list[int], int]:
    """The ids of one page in order, and how many tips meet `where` in all, in one statement."""
    if limit > 0:
        statement = select(Tip.id, func.count().over()).where(where).order_by(*order)
        rows = (await db.execute(statement.offset(offset).limit(limit))).tuples().all()
        if rows:
            return [tip_id for tip_id, _ in rows], int(rows[0][1])
    return [], await _count(db, where)


async def _count_upto(db: AsyncSession, where: ColumnElement[bool], most: int) -> int:
    """How many tips meet `where`, counting no further than `most`."""
    if most <= 0:
        return 0
    first = select(literal_column("1")).select_from(Tip).where(where).limit(most).subquery()
    return int(await db.scalar(select(func.count()).select_from(first)) or 0)


async def find_tips(
    db: AsyncSession,
    scope: Scope,
    wanted: TipFilter,
    *,
    overdue_before: datetime,
    offset: int,
    limit: int,
) -> Found:
    """One page of the tips in scope that meet the filter, in the queue's order (open ones
    urgent, then overdue, then oldest first), then the rest newest first; with how many match,
    up to COUNT_LIMIT ("more than 10,000" beyond)."""
    narrowed = _narrowed(scope, wanted)
    search = None
    if wanted.words.strip():
        terms = search_terms(wanted.words)
        # Punctuation alone, or a word no index holds, finds nothing rather than everything.
        if not terms or any(len(term.encode()) > LONGEST_WORD_BYTES for term in terms):
            return Found([], 0, more=False)
        search = _search(db, terms)
    picked = wanted.statuses or frozenset(TipStatus)
    open_statuses = [status for status in OPEN_STATUSES if status in picked]
    closed_statuses = [status for status in CLOSED_STATUSES if status in picked]
    # Open tips are a few percent of all: counted exactly, so that paging knows where the
    # rest begin. The rest apart, so that they walk the date index instead of being sorted.
    open_total, ids = 0, list[int]()
    if open_statuses:
        is_open = and_(*narrowed, _open_ones(open_statuses))
        order = _queue_order(overdue_before)
        if search is None:
            # The count reads the open tips' index alone, cheaper than counting with the page.
            open_total = await _count(db, is_open)
            reach = limit if offset < open_total else 0
            ids = await _ids(db, is_open, order, offset=offset, limit=reach)
        else:
            # Each statement of a search reads its matches again: one for page and count.
            ids, open_total = await _page_and_count(
                db, and_(is_open, search.among_open), order, offset=offset, limit=limit
            )
    closed_total = 0
    if closed_statuses:
        # Every status but the open ones, said as such: the planner then keeps the date index.
        closed = and_(
            *narrowed,
            ~Tip.status.in_(OPEN_STATUSES)
            if len(closed_statuses) == len(CLOSED_STATUSES)
            else Tip.status.in_(closed_statuses),
        )
        if search is None or search.weighed:
            paged = closed if search is None else and_(closed, search.starting)
            closed_total = await _count_upto(db, paged, most=COUNT_LIMIT + 1 - open_total)
        elif await _count_upto(db, closed, most=SHORT_WALK + 1) <= SHORT_WALK:
            # A unit's tips, or a period's: walked whole, each checked, whatever the matches.
            paged = and_(closed, search.checking)
            closed_total = await _count_upto(db, paged, most=COUNT_LIMIT + 1 - open_total)
        else:
            # Counted from the matches (the count stops at its limit); how many there are
            # then tells whether walking the date index or sorting them finds the page sooner.
            counted = and_(closed, search.starting)
            most = max(COUNT_LIMIT + 1 - open_total, MANY_MATCHES + 1)
            closed_total = await _count_upto(db, counted, most=most)
            many = closed_total > MANY_MATCHES
            paged = and_(closed, search.checking if many else search.starting)
        ids += await _ids(
            db,
            paged,
            (Tip.created_at.desc(), Tip.id.desc()),
            offset=max(0, offset - open_total),
            limit=limit - len(ids),
        )
    total = open_total + closed_total
    return Found(await _tips_in_order(db, ids), min(total, COUNT_LIMIT), total > COUNT_LIMIT)


async def count_unread_answers(db: AsyncSession, tip_ids: Collection[int]) -> dict[int, int]:
    """How many of its tipster's answers nobody has read yet, for each of these tips that has
    any (a tip without is left out)."""
    if not tip_ids:
        return {}
    counted = (
        select(ThreadMessage.tip_id, func.count())
        .where(
            one_of(db, ThreadMessage.tip_id, sorted(tip_ids)),
            ThreadMessage.role == ThreadRole.ANSWER,
            ThreadMessage.read_at.is_(None),
        )
        .group_by(ThreadMessage.tip_id)
    )
    return {tip_id: int(count) for tip_id, count in (await db.execute(counted)).tuples()}
