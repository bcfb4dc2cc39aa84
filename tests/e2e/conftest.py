"""End-to-end fixtures: SQLite files on disk, time that passes, a fake Bot API server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegramAPI


class TickingClock(FakeClock):
    """A fake clock that moves two seconds whenever it is read, like a person typing."""

    def __call__(self) -> datetime:
        self.advance(seconds=2)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """Time that passes as the bot works, so per-minute limits behave as with people."""
    return TickingClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """End-to-end tests run on SQLite files, so their raw bytes can be searched."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tipline.db'}"


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API server."""
    async with FakeTelegramAPI() as fake:
        yield fake


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
