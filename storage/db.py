"""Engine, sessions and the unit of work: one transaction, committed or rolled back whole."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ARRAY,
    ClauseElement,
    ColumnElement,
    CursorResult,
    Result,
    Select,
    any_,
    event,
    literal,
    make_url,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import TextualSelect

from storage.inline_sqlite import begin_immediate, inline_engine_options

T = TypeVar("T")


class Database:
    """Hands out transactions; on SQLite it lets one writer in at a time, without busy errors."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {"timeout": 30} if self.is_sqlite else {}
        parsed = make_url(url)
        in_file = self.is_sqlite and parsed.database not in (None, "", ":memory:")
        # The writer works on the event loop's thread (see storage/inline_sqlite.py).
        writer_url, writer_args = (
            inline_engine_options(parsed) if in_file else (parsed, connect_args)
        )
        self._inline = in_file
        # Errors leave out the statement's values: they may hold what a tipster wrote.
        self._engine = create_async_engine(
            writer_url, echo=echo, connect_args=writer_args, hide_parameters=True
        )
        self.sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        # SQLite serialises writers anyway; queueing them here avoids SQLITE_BUSY retries.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._read_engine = self._engine
        if self.is_sqlite:
            _configure_sqlite(
                self._engine.sync_engine, writer=True, busy_ms=0 if in_file else 30000
            )
            if in_file:
                # Readers on their own connections and threads, with a deferred BEGIN: under
                # WAL they neither wait for the writer nor hold it up, nor the event loop.
                self._read_engine = create_async_engine(
                    url, echo=echo, connect_args=connect_args, hide_parameters=True
                )
                _configure_sqlite(self._read_engine.sync_engine, writer=False, busy_ms=30000)
        self.read_sessions = async_sessionmaker(self._read_engine, expire_on_commit=False)
        # One-statement reads on PostgreSQL need no BEGIN and COMMIT: two round trips saved.
        glancing = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        self._glances = (
            None if self.is_sqlite else async_sessionmaker(glancing, expire_on_commit=False)
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: commits on success, rolls back on any error."""
        if self._writer is None:
            async with self.sessions.begin() as session:
                session.info[_DIRECT] = True
                yield session
            return
        async with self._writer:
            session = self.sessions()
            try:
                async with session.begin():
                    if self._inline:
                        await _keep_driver(session)
                    yield session
            finally:
                session.info.pop(_DRIVER, None)
                # Closed in place: SQLAlchemy's own exit closes in a task of its own, which
                # costs turns of the event loop while this process holds SQLite's one writer.
                await session.close()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only (a long report), which does not block the writers."""
        async with self.read_sessions.begin() as session:
            yield session

    @asynccontextmanager
    async def glance(self) -> AsyncIterator[AsyncSession]:
        """A session for one quick read outside any transaction (each statement on its own)."""
        if self._glances is None:
            async with self.reading() as session:
                yield session
            return
        async with self._glances() as session:
            yield session

    async def run_on_connection(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a plain connection in a transaction of its own (migrations, checks)."""
        async with self._engine.begin() as connection:
            return await connection.run_sync(work)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()
        await self._read_engine.dispose()


def one_of(
    db: AsyncSession, column: QueryableAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`, one statement whatever the
    number of values, so that the driver prepares it once rather than once per count."""
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


# The statements every update runs skip SQLAlchemy's execution layer: each is compiled by
# SQLAlchemy once per database and then run straight on the driver's cursor, with the same
# type conversions. On SQLite that layer cost many times the SQL itself (bench/README.md).
# They go around the ORM's autoflush, so each flushes a session holding changes first;
# SQLAlchemy's echo and cursor events do not see them. The compiler's internals they read
# (positiontup, binds, the prefetch lists) are why pyproject.toml keeps SQLAlchemy below 2.1.

Processor = Callable[[Any], Any]
# Where the inline SQLite writer, and a PostgreSQL transaction once begun, keep their driver
# connection for the transaction's length.
_DRIVER = "tipline.driver"
# Set on the sessions of Database.transaction(): their plain statements may use asyncpg alone.
_DIRECT = "tipline.direct"


@dataclass(frozen=True, slots=True)
class _Driver:
    dialect: Dialect
    connection: Any  # a DB-API connection, or asyncpg's own when `awaits`
    awaits: bool = False


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]  # the caller's parameter name at each position
    names: tuple[str, ...] | None  # the names the SQL uses, for drivers that take a mapping
    binds: tuple[Processor | None, ...]
    results: tuple[Processor | None, ...]

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = _converted([params[key] for key in self.keys], self.binds)
        return values if self.names is None else dict(zip(self.names, values, strict=True))

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:  # text(): its columns have no declared types
            return tuple(raw)
        return tuple(_converted(raw, self.results))


def _converted(values: Sequence[Any], converters: Sequence[Processor | None]) -> list[Any]:
    return [
        value if convert is None else convert(value)
        for value, convert in zip(values, converters, strict=True)
    ]


class Plain:
    """A statement every update runs: compiled once per database, run on the driver's cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The SQL for this database, with what converts its values on the way in and out."""
        key = f"{dialect.name}+{dialect.driver}"
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = _compile(self.statement, dialect)
        return found


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"not a SQL statement: {statement!r}")
    if compiled.insert_prefetch or compiled.update_prefetch:
        # Defaults computed in Python need SQLAlchemy's execution context: name every value.
        raise ValueError(f"plain statements state every value: {compiled.string}")
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    binds = [compiled.binds[name] for name in names]
    if any(bind.expanding or bind.callable is not None for bind in binds):
        raise ValueError(f"plain statements take plain values: {compiled.string}")
    columns = _result_columns(statement)
    return _Compiled(
        sql=compiled.string,
        keys=tuple(bind.key for bind in binds),
        names=None if compiled.positional else names,
        binds=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
        results=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ),
    )


def _result_columns(statement: ClauseElement) -> Sequence[ColumnElement[Any]]:
    """The typed columns a statement returns; none for a bare text(), its values as they come."""
    if isinstance(statement, Select | TextualSelect):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    return []


async def plain_scalar(db: AsyncSession, plain: Plain, params: Mapping[str, Any]) -> Any:
    """The first column of the first row, or None."""
    row = await _run(db, plain, params, _ROW)
    return None if row is None else row[0]


async def plain_row(
    db: AsyncSession, plain: Plain, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The first row, or None."""
    return await _run(db, plain, params, _ROW)


async def plain_rows(
    db: AsyncSession, plain: Plain, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row."""
    return await _run(db, plain, params, _ROWS)


async def plain_execute(db: AsyncSession, plain: Plain, params: Mapping[str, Any]) -> int:
    """Run an UPDATE or DELETE; how many rows it touched."""
    return await _run(db, plain, params, _COUNT)


class _Fetch(Generic[T]):
    """What a plain statement gives back, read from a DB-API cursor or straight from asyncpg."""

    def from_cursor(self, cursor: Any, compiled: _Compiled) -> T:
        raise NotImplementedError

    async def from_asyncpg(self, connection: Any, compiled: _Compiled, values: Sequence[Any]) -> T:
        raise NotImplementedError


class _Row(_Fetch[tuple[Any, ...] | None]):
    def from_cursor(self, cursor: Any, compiled: _Compiled) -> tuple[Any, ...] | None:
        raw = cursor.fetchone()
        return None if raw is None else compiled.row(raw)

    async def from_asyncpg(
        self, connection: Any, compiled: _Compiled, values: Sequence[Any]
    ) -> tuple[Any, ...] | None:
        raw = await connection.fetchrow(compiled.sql, *values)
        return None if raw is None else compiled.row(raw)


class _Rows(_Fetch[list[tuple[Any, ...]]]):
    def from_cursor(self, cursor: Any, compiled: _Compiled) -> list[tuple[Any, ...]]:
        return [compiled.row(raw) for raw in cursor.fetchall()]

    async def from_asyncpg(
        self, connection: Any, compiled: _Compiled, values: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        return [compiled.row(raw) for raw in await connection.fetch(compiled.sql, *values)]


class _Count(_Fetch[int]):
    def from_cursor(self, cursor: Any, _compiled: _Compiled) -> int:
        return int(cursor.rowcount)

    async def from_asyncpg(
        self, connection: Any, compiled: _Compiled, values: Sequence[Any]
    ) -> int:
        status = await connection.execute(compiled.sql, *values)  # "UPDATE 3", "DELETE 0"
        count = str(status).rpartition(" ")[2]
        return int(count) if count.isdigit() else -1


_ROW, _ROWS, _COUNT = _Row(), _Rows(), _Count()


async def _run(db: AsyncSession, plain: Plain, params: Mapping[str, Any], fetch: _Fetch[T]) -> T:
    if db.new or db.dirty or db.deleted:
        # Plain statements go around the ORM, and so around its autoflush: what the session
        # holds must be in the transaction before one reads it. A clean session costs nothing.
        await db.flush()
    driver: _Driver | None = db.info.get(_DRIVER)
    if driver is None:
        # Drivers that await (asyncpg) are called inside SQLAlchemy's greenlet.
        return await db.run_sync(_in_session, plain, params, fetch)
    if not driver.awaits:
        return _on_driver(driver, plain, params, fetch)
    if not driver.connection.is_in_transaction():
        # Only inside the transaction SQLAlchemy began (and will end) may asyncpg go alone.
        return await db.run_sync(_in_session, plain, params, fetch)
    return await _on_asyncpg(driver, plain, params, fetch)


async def _keep_driver(session: AsyncSession) -> None:
    """Begin now and keep the writer's driver connection, for plain statements to use as is."""
    session.info[_DRIVER] = await session.run_sync(_driver_of)


def _driver_of(session: Session) -> _Driver:
    connection = session.connection()
    return _Driver(connection.dialect, connection.connection.dbapi_connection)


def _in_session(session: Session, plain: Plain, params: Mapping[str, Any], fetch: _Fetch[T]) -> T:
    driver = _driver_of(session)
    result = _on_driver(driver, plain, params, fetch)
    if session.info.get(_DIRECT) and driver.dialect.driver == "asyncpg":
        # The transaction has begun (by this statement, at the latest): the next statements
        # of this unit of work skip SQLAlchemy's greenlet and DB-API adapter (bench/README.md).
        raw = session.connection().connection.driver_connection
        session.info[_DRIVER] = _Driver(driver.dialect, raw, awaits=True)
    return result


def _on_driver(driver: _Driver, plain: Plain, params: Mapping[str, Any], fetch: _Fetch[T]) -> T:
    compiled = plain.compiled(driver.dialect)
    error_class = driver.dialect.loaded_dbapi.Error
    cursor = driver.connection.cursor()
    try:
        cursor.execute(compiled.sql, compiled.parameters(params))
        return fetch.from_cursor(cursor, compiled)
    except error_class as error:
        raise _wrapped(compiled, params, error, error_class, driver.dialect) from error
    finally:
        cursor.close()


async def _on_asyncpg(
    driver: _Driver, plain: Plain, params: Mapping[str, Any], fetch: _Fetch[T]
) -> T:
    compiled = plain.compiled(driver.dialect)
    values = _converted([params[key] for key in compiled.keys], compiled.binds)
    try:
        return await fetch.from_asyncpg(driver.connection, compiled, values)
    except Exception as error:
        dbapi = driver.dialect.loaded_dbapi
        kind = next((name for base, name in _asyncpg_kinds() if isinstance(error, base)), None)
        if kind is None:
            raise
        # As SQLAlchemy's asyncpg adapter would have raised it: the DB-API's class of error.
        translated = getattr(dbapi, kind)(f"{type(error)}: {error}")
        translated.pgcode = translated.sqlstate = getattr(error, "sqlstate", None)
        raise _wrapped(compiled, params, translated, dbapi.Error, driver.dialect) from error


@functools.cache
def _asyncpg_kinds() -> tuple[tuple[type[Exception], str], ...]:
    """asyncpg's errors and the DB-API class each is, most particular first."""
    import asyncpg  # noqa: PLC0415 - installed only for PostgreSQL

    errors = asyncpg.exceptions
    return (
        (errors.IntegrityConstraintViolationError, "IntegrityError"),
        (errors.SyntaxOrAccessError, "ProgrammingError"),
        (errors.FeatureNotSupportedError, "NotSupportedError"),
        (errors.PostgresConnectionError, "OperationalError"),
        (errors.PostgresError, "DatabaseError"),
        (errors.InterfaceError, "InterfaceError"),
    )


def _wrapped(
    compiled: _Compiled,
    params: Mapping[str, Any],
    error: Exception,
    error_class: type[Exception],
    dialect: Dialect,
) -> Exception:
    """A driver's error as SQLAlchemy raises it, so that callers catch one family of errors."""
    return DBAPIError.instance(
        compiled.sql,
        dict(params),
        error,
        error_class,
        hide_parameters=True,
        dialect=dialect,
    )


def _configure_sqlite(sync_engine: Any, *, writer: bool, busy_ms: int) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if writer:
            # IMMEDIATE takes the write lock up front, so two processes never deadlock on
            # upgrade; waiting for it is done on the loop, not in SQLite's busy handler.
            begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")
