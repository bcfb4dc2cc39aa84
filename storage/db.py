"""Engine, sessions and the unit of work: one transaction, committed or rolled back whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import CursorResult, Executable, Result, Row, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from storage.inline_sqlite import begin_immediate, inline_engine_options


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
        self.engine = create_async_engine(writer_url, echo=echo, connect_args=writer_args)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite serialises writers anyway; queueing them here avoids SQLITE_BUSY retries.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self.read_engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine.sync_engine, writer=True, busy_ms=0 if in_file else 30000)
            if in_file:
                # Readers on their own connections and threads, with a deferred BEGIN: under
                # WAL they neither wait for the writer nor hold it up, nor the event loop.
                self.read_engine = create_async_engine(url, echo=echo, connect_args=connect_args)
                _configure_sqlite(self.read_engine.sync_engine, writer=False, busy_ms=30000)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: commits on success, rolls back on any error."""
        if self._writer is None:
            async with self.sessions.begin() as session:
                yield session
            return
        async with self._writer:
            session = self.sessions()
            try:
                async with session.begin():
                    yield session
            finally:
                # Closed in place: SQLAlchemy's own exit closes in a task of its own, which
                # costs turns of the event loop while this process holds SQLite's one writer.
                await session.close()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only (a long report), which does not block the writers."""
        async with self.read_sessions.begin() as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        await self.read_engine.dispose()


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


# The statements every update runs go to the transaction's connection as plain SQL: the ORM's
# execution layer (autoflush, entity loading) and a greenlet per call cost more than the SQL.
# They read and write rows the ORM does not hold, so skipping its autoflush changes nothing.


async def plain_scalar(db: AsyncSession, statement: Executable, params: Mapping[str, Any]) -> Any:
    """The first column of the first row, or None."""
    return await db.run_sync(_scalar, statement, params)


async def plain_row(
    db: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> Row[Any] | None:
    """The first row, or None."""
    return await db.run_sync(_first, statement, params)


async def plain_execute(db: AsyncSession, statement: Executable, params: Mapping[str, Any]) -> int:
    """Run an UPDATE or DELETE; how many rows it touched."""
    return await db.run_sync(_rowcount, statement, params)


def _scalar(session: Session, statement: Executable, params: Mapping[str, Any]) -> Any:
    return session.connection().execute(statement, params).scalar()


def _first(session: Session, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
    return session.connection().execute(statement, params).first()


def _rowcount(session: Session, statement: Executable, params: Mapping[str, Any]) -> int:
    return affected(session.connection().execute(statement, params))


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
