"""A PostgreSQL database emptied for a test or a benchmark run that must start from nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def drop_everything(connection: Connection) -> None:
    """Drop the public schema with everything in it, and create it again, empty."""
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))
