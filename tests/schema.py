"""A PostgreSQL database emptied for a test or a benchmark run that must start from nothing."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.migrate import alembic_config


def drop_everything(connection: Connection) -> None:
    """Drop the public schema with everything in it, and create it again, empty."""
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))


def empty_if_newest(connection: Connection) -> bool:
    """Empty every table of a database already at the newest revision, ids restarting (a
    fraction of a second, where dropping and migrating again takes one or two); False, and
    nothing touched, when the schema is at another revision or missing (a test migrated it)."""
    if connection.execute(text("SELECT to_regclass('public.alembic_version')")).scalar() is None:
        return False
    newest = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if connection.execute(text("SELECT version_num FROM alembic_version")).scalar() != newest:
        return False
    tables = (
        connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        )
        .scalars()
        .all()
    )
    if tables:
        names = ", ".join(f'"{name}"' for name in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return True
