"""The desk's list (storage/finding.py), on SQLite and PostgreSQL: filters, order, paging,
scope, and the search by words with accents optional."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import and_, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import storage.finding
from storage.db import Database
from storage.finding import Found, TipFilter, count_unread_answers, find_tips, search_terms
from storage.folding import fold
from storage.migrate import downgrade, upgrade
from storage.models import ThreadRole, Tip, TipStatus
from storage.officers import add_officer
from storage.thread import add_thread_message
from storage.tips import NewTip, Scope, add_tip

NOW = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)
OVERDUE_BEFORE = NOW - timedelta(hours=72)
_codes = itertools.count(1)
NO_FILTER, WHOLE_MAP = TipFilter(), Scope()


@dataclass(frozen=True, slots=True)
class Made:
    """A tip as a test made it: how the test names it, and its row id."""

    name: str
    tip_id: int


async def make(
    db: AsyncSession,
    name: str,
    *,
    hours_ago: float,
    status: TipStatus = TipStatus.RECEIVED,
    moved_hours_ago: float | None = None,
    description: str = "Có người lạ tụ tập",
    place: str | None = None,
    area: str = "an-thuy",
    category: str = "drugs",
    urgent: bool = False,
    top_only: bool = False,
    assigned_to: int | None = None,
    duplicate_of: int | None = None,
) -> Made:
    """A tip filed `hours_ago`, its status last changed `moved_hours_ago` (default: then)."""
    n = next(_codes) % 1000  # a fresh database each test: codes differ within one
    code = f"Q{n:03d}K{n:03d}"  # no code begins with another's half
    new = NewTip(
        code=code,
        category=category,
        area=area,
        place=place,
        latitude=None,
        longitude=None,
        description=description,
        occurred="today",
        urgent=urgent,
        language="vi",
        passphrase_hash="x",
        attachments=(),
        top_only=top_only,
        channel="console",
    )
    tip = await add_tip(db, new, now=NOW - timedelta(hours=hours_ago))
    tip.status = status
    tip.status_at = NOW - timedelta(hours=hours_ago if moved_hours_ago is None else moved_hours_ago)
    tip.assigned_officer_id = assigned_to
    tip.duplicate_of_id = duplicate_of
    await db.flush()
    return Made(name, tip.id)


async def found(
    database: Database,
    made: list[Made],
    wanted: TipFilter = NO_FILTER,
    *,
    scope: Scope = WHOLE_MAP,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[str], Found]:
    """The names of the tips the desk lists, in its order, and what find_tips returned."""
    names = {m.tip_id: m.name for m in made}
    async with database.reading() as db:
        result = await find_tips(
            db, scope, wanted, overdue_before=OVERDUE_BEFORE, offset=offset, limit=limit
        )
    return [names[tip.id] for tip in result.tips], result


# --- order, paging, counting ---


@pytest.fixture
async def queue(database: Database) -> list[Made]:
    """Open tips of every standing and closed ones, filed in a shuffled order."""
    async with database.transaction() as db:
        return [
            await make(db, "waiting-new", hours_ago=2),
            await make(db, "closed-old", hours_ago=500, status=TipStatus.HANDLED),
            await make(db, "overdue-young", hours_ago=100, moved_hours_ago=80),
            await make(db, "urgent-new", hours_ago=1, urgent=True),
            await make(db, "waiting-old", hours_ago=50, status=TipStatus.VERIFYING),
            await make(db, "closed-new", hours_ago=3, status=TipStatus.CLOSED_SPAM),
            await make(db, "overdue-old", hours_ago=300, moved_hours_ago=200),
            await make(db, "urgent-old", hours_ago=200, urgent=True),
            await make(db, "closed-mid", hours_ago=60, status=TipStatus.CLOSED_UNFOUNDED),
        ]


QUEUE_ORDER = [
    "urgent-old",
    "urgent-new",
    "overdue-old",
    "overdue-young",
    "waiting-old",
    "waiting-new",
    "closed-new",
    "closed-mid",
    "closed-old",
]


async def test_the_list_reads_as_the_queue_then_the_rest_newest_first(
    database: Database, queue: list[Made]
) -> None:
    names, result = await found(database, queue)
    assert names == QUEUE_ORDER
    assert (result.total, result.more) == (9, False)


@pytest.mark.parametrize("size", [1, 2, 4, 5, 6, 9])
async def test_pages_of_any_size_meet_where_the_open_tips_end(
    database: Database, queue: list[Made], size: int
) -> None:
    walked: list[str] = []
    for offset in range(0, 12, size):
        names, result = await found(database, queue, offset=offset, limit=size)
        assert len(names) == max(0, min(size, 9 - offset))
        assert result.total == 9
        walked += names
    assert walked == QUEUE_ORDER


async def test_past_the_count_limit_the_total_says_more(
    database: Database, queue: list[Made], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.finding, "COUNT_LIMIT", 7)
    names, result = await found(database, queue)
    assert names == QUEUE_ORDER  # the page is whole, only the count stops
    assert (result.total, result.more) == (7, True)
    monkeypatch.setattr(storage.finding, "COUNT_LIMIT", 4)  # fewer than the open tips alone
    assert (await found(database, queue))[1][1:] == (4, True)
    monkeypatch.setattr(storage.finding, "COUNT_LIMIT", 9)  # exactly as many: no "more"
    assert (await found(database, queue))[1][1:] == (9, False)


# --- filters ---


@pytest.fixture
async def varied(database: Database) -> tuple[list[Made], dict[str, int]]:
    """Tips that differ in one way each from a plain one, and two officers' ids."""
    async with database.transaction() as db:
        an = await add_officer(db, name="An", area="an-thuy", is_admin=False, now=NOW)
        cam = await add_officer(db, name="Cam", area="cam-thuy", is_admin=False, now=NOW)
        plain = await make(db, "plain", hours_ago=10)
        made = [
            plain,
            await make(db, "verifying", hours_ago=11, status=TipStatus.VERIFYING),
            await make(db, "handled", hours_ago=12, status=TipStatus.HANDLED),
            await make(db, "theft", hours_ago=13, category="theft"),
            await make(db, "cam-thuy", hours_ago=14, area="cam-thuy"),
            await make(db, "top-only", hours_ago=15, top_only=True),
            await make(db, "last-month", hours_ago=24 * 30),
            await make(db, "urgent", hours_ago=16, urgent=True),
            await make(db, "to-an", hours_ago=17, assigned_to=an.id),
            await make(db, "to-cam", hours_ago=18, assigned_to=cam.id),
            await make(db, "answered", hours_ago=19),
            await make(db, "answer-read", hours_ago=20),
            await make(
                db,
                "duplicate",
                hours_ago=21,
                status=TipStatus.CLOSED_DUPLICATE,
                duplicate_of=plain.tip_id,
            ),
            # Closed as a duplicate by its status alone, naming no tip: it repeats none known.
            await make(db, "duplicate-unnamed", hours_ago=22, status=TipStatus.CLOSED_DUPLICATE),
            # Once closed as a duplicate, open again: the link stays, the tip is no duplicate.
            await make(db, "reopened", hours_ago=23, duplicate_of=plain.tip_id),
        ]
        by_name = {m.name: m.tip_id for m in made}
        for name, read in (("answered", None), ("answer-read", NOW)):
            tip_id = by_name[name]
            await add_thread_message(
                db, tip_id=tip_id, role=ThreadRole.QUESTION, text="Mấy người?", now=NOW
            )
            answer = await add_thread_message(
                db, tip_id=tip_id, role=ThreadRole.ANSWER, text="Ba người", now=NOW
            )
            answer.read_at = read
        # A question nobody answered is nothing to read.
        await add_thread_message(
            db, tip_id=plain.tip_id, role=ThreadRole.QUESTION, text="Ở đâu?", now=NOW
        )
    return made, {"an": an.id, "cam": cam.id}


EVERY = {
    "plain",
    "verifying",
    "handled",
    "theft",
    "cam-thuy",
    "top-only",
    "last-month",
    "urgent",
    "to-an",
    "to-cam",
    "answered",
    "answer-read",
    "duplicate",
    "duplicate-unnamed",
    "reopened",
}
CLOSED = {"handled", "duplicate", "duplicate-unnamed"}


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (TipFilter(), EVERY),
        (TipFilter(statuses=frozenset({TipStatus.VERIFYING})), {"verifying"}),
        (
            TipFilter(statuses=frozenset({TipStatus.HANDLED, TipStatus.VERIFYING})),
            {"handled", "verifying"},
        ),
        (TipFilter(statuses=frozenset({TipStatus.CLOSED_SPAM})), set()),
        (TipFilter(categories=frozenset({"theft", "fraud"})), {"theft"}),
        (TipFilter(areas=frozenset({"cam-thuy"})), {"cam-thuy"}),
        (TipFilter(areas=frozenset({"an-thuy"})), EVERY - {"cam-thuy"}),
        (TipFilter(areas=frozenset()), set()),
        (TipFilter(since=NOW - timedelta(hours=24 * 30)), EVERY),
        (TipFilter(since=NOW - timedelta(hours=24 * 30 - 1)), EVERY - {"last-month"}),
        (TipFilter(until=NOW - timedelta(hours=24 * 30)), set()),
        (TipFilter(until=NOW - timedelta(hours=24 * 30 - 1)), {"last-month"}),
        (TipFilter(urgent=True), {"urgent"}),
        (TipFilter(unread_answers=True), {"answered"}),
        (TipFilter(hide_duplicates=True), EVERY - {"duplicate"}),
        (
            TipFilter(
                statuses=frozenset({TipStatus.RECEIVED}),
                categories=frozenset({"drugs"}),
                areas=frozenset({"an-thuy"}),
                since=NOW - timedelta(hours=18),
                until=NOW - timedelta(hours=10),
            ),
            {"top-only", "urgent", "to-an", "to-cam"},
        ),
    ],
)
async def test_each_filter_keeps_exactly_its_tips(
    database: Database,
    varied: tuple[list[Made], dict[str, int]],
    wanted: TipFilter,
    expected: set[str],
) -> None:
    names, result = await found(database, varied[0], wanted)
    assert set(names) == expected and len(names) == len(expected) == result.total
    # Whatever the filter, the open ones come first.
    statuses = [name in CLOSED for name in names]
    assert statuses == sorted(statuses)


async def test_assigned_to_me_lists_my_tips_only(
    database: Database, varied: tuple[list[Made], dict[str, int]]
) -> None:
    made, officers = varied
    assert (await found(database, made, TipFilter(assigned_to=officers["an"])))[0] == ["to-an"]
    assert (await found(database, made, TipFilter(assigned_to=officers["cam"])))[0] == ["to-cam"]


async def test_a_commune_never_sees_another_communes_tip_nor_a_top_only_one(
    database: Database, varied: tuple[list[Made], dict[str, int]]
) -> None:
    made = varied[0]
    an_thuy = Scope(frozenset({"an-thuy"}))
    names, _ = await found(database, made, scope=an_thuy)
    assert set(names) == EVERY - {"cam-thuy", "top-only"}
    # Asking for another commune's area, or a top-only tip's words, finds nothing more.
    for wanted in (
        TipFilter(areas=frozenset({"cam-thuy"})),
        TipFilter(areas=frozenset({"cam-thuy", "an-thuy"}), categories=frozenset({"theft"})),
    ):
        names, _ = await found(database, made, wanted, scope=an_thuy)
        assert "cam-thuy" not in names and "top-only" not in names
    names, _ = await found(database, made, TipFilter(areas=frozenset({"cam-thuy"})), scope=an_thuy)
    assert names == []
    two = Scope(frozenset({"an-thuy", "cam-thuy"}))
    names, _ = await found(database, made, TipFilter(areas=frozenset({"cam-thuy"})), scope=two)
    assert names == ["cam-thuy"]


async def test_unread_answers_are_counted_for_the_rows(
    database: Database, varied: tuple[list[Made], dict[str, int]]
) -> None:
    by_name = {m.name: m.tip_id for m in varied[0]}
    async with database.transaction() as db:
        answered = by_name["answered"]
        await add_thread_message(
            db, tip_id=answered, role=ThreadRole.ANSWER, text="Và một xe máy", now=NOW
        )
        counts = await count_unread_answers(db, list(by_name.values()))
        assert counts == {answered: 2}
        assert await count_unread_answers(db, []) == {}


# --- search ---


STORIES = {
    "market": ("Trộm xe máy ở chợ Đồng Hới", None),
    "bridge": ("Có người lạ đi xe máy đỏ qua cầu", "Cầu Kiến Giang"),
    "english": ("Near the market, or not: NEAR(ga) description:x", None),
    "plate": ("Xe biển số 73B1-123.45 bỏ chạy", "Thôn Tân Hải"),
    "gambling": ("Đánh bạc ở nhà văn hóa thôn", "Đồng Hới"),
}


@pytest.fixture
async def stories(database: Database) -> dict[str, tuple[Made, str]]:
    """Tips with words to search, each with its code."""
    made: dict[str, tuple[Made, str]] = {}
    async with database.transaction() as db:
        for hours, (name, (story, place)) in enumerate(STORIES.items()):
            tip = await make(db, name, hours_ago=hours + 1, description=story, place=place)
            code = await db.scalar(text("SELECT code FROM tip WHERE id = :id"), {"id": tip.tip_id})
            made[name] = (tip, str(code))
    return made


async def searched(
    database: Database, stories: dict[str, tuple[Made, str]], words: str
) -> set[str]:
    names, result = await found(database, [m for m, _ in stories.values()], TipFilter(words=words))
    assert result.total == len(names)
    return set(names)


def plainly_found(stories: dict[str, tuple[Made, str]], words: str) -> set[str]:
    """What a search should find, worked out in Python: every folded word begins a word."""
    terms = search_terms(words)
    if not terms:
        return set()
    found_names = set()
    for name, (_, code) in stories.items():
        story, place = STORIES[name]
        words_of = re.findall(
            r"[^\W_]+", fold(f"{story} {place or ''} {code} {code[:4]} {code[4:]}")
        )
        if all(any(word.startswith(term) for word in words_of) for term in terms):
            found_names.add(name)
    return found_names


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("trom xe may dong hoi", {"market"}),
        ("Trộm", {"market"}),
        ("TRỘM", {"market"}),
        ("hoi dong", {"market", "gambling"}),  # any order, the place counts
        ("đồng hới", {"market", "gambling"}),
        ("Dong Hoi", {"market", "gambling"}),
        ("xe", {"market", "bridge", "plate"}),
        ("xe may", {"market", "bridge"}),
        ("tro xe ma", {"market"}),  # beginnings of words
        ("kien giang", {"bridge"}),
        ("73b1", {"plate"}),
        ("73B1-123.45", {"plate"}),
        ("rom", set()),  # the middle of a word is no beginning
        ("trom cau", set()),  # every word must be found
        ("  ", set(STORIES)),  # no words: no search
    ],
)
async def test_search_finds_words_with_or_without_accents(
    database: Database, stories: dict[str, tuple[Made, str]], words: str, expected: set[str]
) -> None:
    assert await searched(database, stories, words) == expected


async def test_a_tip_is_found_by_its_code_as_stored_and_as_shown(
    database: Database, stories: dict[str, tuple[Made, str]]
) -> None:
    _, code = stories["bridge"]
    for words in (code, code.lower(), f"{code[:4]}-{code[4:]}", code[:4]):
        assert await searched(database, stories, words) == {"bridge"}


HOSTILE = [
    '"',
    '""',
    '"trom',
    "*",
    "trom*",
    "* trom",
    "NEAR(trom xe)",
    "NEAR",
    "trom -xe",
    "-",
    "description:trom",
    "words:xe",
    "{words}: xe",
    "trom OR cau",
    "trom AND cau",
    "NOT cau",
    "xe NOT may",
    "^xe",
    "xe + may",
    "(xe",
    "xe)",
    "'",
    "trom' | 'cau",
    "trom:* | cau:*",
    "!trom",
    "xe & !may",
    "xe <-> may",
    "\\",
    "%",
    "_",
    ":",
    "\x00xe",
    "xe\nmay",
    "ⓧⓔ",
    "x" * 3000,
    " ".join(["xe"] * 500),
    "near the",
    "or not",
]


@pytest.mark.parametrize("words", HOSTILE)
async def test_search_syntax_typed_in_the_box_is_only_words(
    database: Database, stories: dict[str, tuple[Made, str]], words: str
) -> None:
    """Quotes, stars, NEAR, minus, columns, tsquery operators: never an error, never more."""
    assert await searched(database, stories, words) == plainly_found(stories, words)


async def test_punctuation_alone_finds_nothing(
    database: Database, stories: dict[str, tuple[Made, str]]
) -> None:
    for words in ("*", "-", '"', "!!!", "…"):
        assert await searched(database, stories, words) == set()


def vietnamese_letters() -> list[str]:
    """Every vowel with every tone, upper and lower case, and đ and Đ."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = [unicodedata.normalize("NFC", v + t) for v in vowels for t in tones]
    return [*letters, *(letter.upper() for letter in letters), "đ", "Đ"]


async def test_every_vietnamese_letter_folds_alike_in_python_and_in_the_index(
    database: Database,
) -> None:
    letters = vietnamese_letters()
    assert len(letters) == 146
    # A word of its own for each letter: kq0ạ is found as kq0a only if ạ was folded so.
    words = [f"kq{n}{letter}" for n, letter in enumerate(letters)]
    async with database.transaction() as db:
        tip = await make(db, "alphabet", hours_ago=1, description=" ".join(words))
    for word in words:
        assert fold(word).isascii()
        for typed in (fold(word), word):
            names, _ = await found(database, [tip], TipFilter(words=typed))
            assert names == ["alphabet"], (word, typed)


async def test_the_index_follows_a_tips_text_when_it_changes_or_goes(
    database: Database, stories: dict[str, tuple[Made, str]]
) -> None:
    market = stories["market"][0].tip_id
    async with database.transaction() as db:
        tip = await db.get(Tip, market)
        assert tip is not None
        tip.description, tip.place = "Đua xe trái phép", "Quốc lộ 1A"
        await db.flush()
    assert await searched(database, stories, "trom") == set()
    assert await searched(database, stories, "dua xe") == {"market"}
    assert await searched(database, stories, "quoc lo 1a") == {"market"}
    async with database.transaction() as db:
        tip = await db.get(Tip, market)
        await db.delete(tip)
    assert await searched(database, stories, "dua xe") == set()
    async with database.transaction() as db:  # a bulk delete, around the ORM
        await db.execute(delete(Tip).where(Tip.id == stories["gambling"][0].tip_id))
    assert await searched(database, stories, "dong hoi") == set()
    assert await searched(database, stories, "xe") == {"bridge", "plate"}


@pytest.mark.parametrize(
    ("short_walk", "many_matches"),
    [(50_000, 5_000), (0, 5_000), (0, 0)],
    ids=["walked-whole", "few-matches", "many-matches"],
)
async def test_search_works_with_the_other_filters_and_the_scope(
    database: Database, monkeypatch: pytest.MonkeyPatch, short_walk: int, many_matches: int
) -> None:
    """Found alike whichever way SQLite finds the closed tips: checking each tip of a short
    walk, looking up each of a few matches, or checking each tip the date index walks past."""
    monkeypatch.setattr(storage.finding, "SHORT_WALK", short_walk)
    monkeypatch.setattr(storage.finding, "MANY_MATCHES", many_matches)
    async with database.transaction() as db:
        made = [
            await make(db, "here", hours_ago=1, description="Trộm chó"),
            await make(db, "there", hours_ago=2, description="Trộm chó", area="cam-thuy"),
            await make(db, "kept", hours_ago=3, description="Trộm chó", top_only=True),
            await make(db, "done", hours_ago=4, description="Trộm chó", status=TipStatus.HANDLED),
            await make(db, "other", hours_ago=5, description="Trộm gà"),
        ]
    an_thuy = Scope(frozenset({"an-thuy"}))
    assert (await found(database, made, TipFilter(words="trom cho"), scope=an_thuy))[0] == [
        "here",
        "done",
    ]
    wanted = TipFilter(words="trom cho", statuses=frozenset({TipStatus.HANDLED}))
    assert (await found(database, made, wanted))[0] == ["done"]
    assert (await found(database, made, TipFilter(words="trom cho")))[0] == [
        "kept",
        "there",
        "here",
        "done",
    ]


async def test_tips_filed_before_the_migration_are_found(
    database: Database,
) -> None:
    await downgrade(database, "0018")
    async with database.transaction() as db:
        made = [
            await make(db, "old", hours_ago=5, description="Trộm xe máy ở chợ Đồng Hới"),
            await make(db, "older", hours_ago=6, description="Mất ví", place="Chợ Đồng Hới"),
        ]
    await upgrade(database)
    assert (await found(database, made, TipFilter(words="dong hoi")))[0] == ["older", "old"]
    assert (await found(database, made, TipFilter(words="trom xe")))[0] == ["old"]
    async with database.transaction() as db:
        made.append(await make(db, "new", hours_ago=1, description="Trộm gà"))
    assert (await found(database, made, TipFilter(words="trom")))[0] == ["old", "new"]
    # Down and up again: the index is built afresh, not doubled.
    await downgrade(database, "0018")
    await upgrade(database)
    assert (await found(database, made, TipFilter(words="trom")))[0] == ["old", "new"]


async def test_postgresql_searches_and_sorts_from_its_indexes(database: Database) -> None:
    """The query's expression is the index's own, or the planner would read every tip."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL's index; SQLite's search reads its FTS5 table by name")
    async with database.transaction() as db:
        await make(db, "one", hours_ago=1, description="Trộm xe máy")
        await db.execute(text("SET LOCAL enable_seqscan = off"))
        statement = storage.finding._search(db, ["trom", "xe"]).starting
        compiled = statement.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
        plan = await db.scalars(text(f"EXPLAIN SELECT id FROM tip WHERE {compiled}"))
        assert "ix_tip_words" in "\n".join(plan)
        # Open tips are searched in their own index (migration 0021), which holds a
        # common word a few thousand times where the whole map's holds it 386,000 times...
        search = storage.finding._search(db, ["trom", "xe"])
        is_open = storage.finding._open_ones([TipStatus.RECEIVED, TipStatus.VERIFYING])
        among_open = and_(is_open, search.among_open)
        compiled = among_open.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
        dropped = await db.begin_nested()  # a few tips: any status-led index would do as well
        await db.execute(text("DROP INDEX ix_tip_open, ix_tip_status_status_at, ix_tip_overview"))
        plan = await db.scalars(text(f"EXPLAIN SELECT id FROM tip WHERE {compiled}"))
        assert "ix_tip_words_open" in "\n".join(plan)
        await dropped.rollback()
        # ...which the planner may read only if the statement names the statuses themselves.
        sent = select(Tip.id).where(is_open)
        rendered = sent.compile(db.get_bind(), compile_kwargs={"render_postcompile": True})
        assert "IN ('received', 'verifying')" in str(rendered)
        # The open tips' index holds their ids, so that a page of them is sorted from it alone.
        indexed = await db.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tip_open'")
        )
        assert str(indexed).endswith("INCLUDE (id)")
