"""tip search: every tip's words, accents folded away, in a full-text index the desk searches;
on PostgreSQL the open tips' index holds their ids

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage/finding.py searches what these index; the SQL of each engine has its twin there.


def _sqlite_words(row: str) -> str:
    # unicode61 with remove_diacritics 2 folds case and every Vietnamese mark, but 'đ' is a
    # letter of its own to it. The code is indexed whole and as its two halves, as people
    # read it (ABCD-EFGH).
    text = (
        f"{row}.description || ' ' || coalesce({row}.place, '') || ' ' || {row}.code"
        f" || ' ' || substr({row}.code, 1, 4) || ' ' || substr({row}.code, 5)"
    )
    return f"replace(replace({text}, 'đ', 'd'), 'Đ', 'D')"


# Contentless: the tips keep the text, the index only its words. Triggers keep it in step
# with every write of a tip's text, whoever writes it (the bot, a script, a restored backup).
_SQLITE_UP = [
    "CREATE VIRTUAL TABLE tip_words USING fts5("
    "words, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO tip_words (rowid, words) SELECT id, {_sqlite_words('tip')} FROM tip",
    f"""CREATE TRIGGER tip_words_insert AFTER INSERT ON tip BEGIN
        INSERT INTO tip_words (rowid, words) VALUES (new.id, {_sqlite_words("new")});
    END""",
    # A contentless index forgets a row only when told the words it indexed for it.
    f"""CREATE TRIGGER tip_words_delete AFTER DELETE ON tip BEGIN
        INSERT INTO tip_words (tip_words, rowid, words)
        VALUES ('delete', old.id, {_sqlite_words("old")});
    END""",
    f"""CREATE TRIGGER tip_words_update AFTER UPDATE OF id, description, place, code ON tip
    BEGIN
        INSERT INTO tip_words (tip_words, rowid, words)
        VALUES ('delete', old.id, {_sqlite_words("old")});
        INSERT INTO tip_words (rowid, words) VALUES (new.id, {_sqlite_words("new")});
    END""",
]
_SQLITE_DOWN = [
    "DROP TRIGGER tip_words_update",
    "DROP TRIGGER tip_words_delete",
    "DROP TRIGGER tip_words_insert",
    "DROP TABLE tip_words",
]

# An index on the folded words themselves: nothing to keep in step, and no extension
# (unaccent) a server may lack. NFD splits the marks off their letters ('đ' has none); ASCII
# punctuation becomes a space, so that the parser's words are runs of letters and digits, as
# SQLite's tokenizer and the searched words are (no hosts, versions or hyphenated words).
_POSTGRESQL_WORDS = (
    "to_tsvector('simple', lower(translate(regexp_replace(regexp_replace(normalize("
    "description || ' ' || coalesce(place, '') || ' ' || code"
    " || ' ' || substr(code, 1, 4) || ' ' || substr(code, 5), NFD),"
    r" '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'),"
    " '[!-/:-@[-`{-~]', ' ', 'g'), 'đĐ', 'dD')))"
)
_OPEN = "status, area, top_only, created_at, status_at, urgent"
_POSTGRESQL_UP = [
    f"CREATE INDEX ix_tip_words ON tip USING gin ({_POSTGRESQL_WORDS})",
    # A PostgreSQL index holds no row id of its own: without `id`, a page of a district's
    # open tips read every one of them from the table to sort them (180 ms, not 11).
    "DROP INDEX ix_tip_open",
    f"CREATE INDEX ix_tip_open ON tip ({_OPEN}) INCLUDE (id)",
]
_POSTGRESQL_DOWN = [
    "DROP INDEX ix_tip_open",
    f"CREATE INDEX ix_tip_open ON tip ({_OPEN})",
    "DROP INDEX ix_tip_words",
]


def upgrade() -> None:
    """Apply this revision."""
    # One statement fills the index from the tips already stored: no row passes through
    # Python, and the migration's transaction is one either way (a million tips: bench/README).
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_UP if sqlite else _POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWN if sqlite else _POSTGRESQL_DOWN:
        op.execute(statement)
