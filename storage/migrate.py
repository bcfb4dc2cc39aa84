"""Apply Alembic migrations from code, sharing the application's own async engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.locks import hold_on

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# Processes started together all call upgrade(): one migrates, the others wait for its commit,
# then find nothing left to do. On SQLite the migration's own write transaction does the same.
MIGRATION_LOCK = "tipline:migrations"


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (the newest by default)."""
    await _migrate(db, lambda config: command.upgrade(config, revision))


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision`."""
    await _migrate(db, lambda config: command.downgrade(config, revision))


async def _migrate(db: Database, step: Callable[[Config], None]) -> None:
    def run(connection: Connection) -> None:
        hold_on(connection, MIGRATION_LOCK)
        step(alembic_config(connection))

    await db.run_on_connection(run)
