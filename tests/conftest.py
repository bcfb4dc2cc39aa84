"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when configured), a fake clock,
a runtime, and a scripted person talking to the handlers through the real unit of work."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.pacing import Pacer
from bot.runtime import Runtime
from bot.settings import load_settings
from handlers.common.sealing import Sealer
from handlers.common.types import Incoming, Kind, Location, Media, MediaKind, Option, Reply
from storage.db import Database
from storage.migrate import upgrade
from tests.messages import filled, says
from tests.schema import drop_everything, empty_if_newest

PG_URL = os.environ.get("TIPLINE_TEST_DATABASE_URL", "")
SECRET = "test-secret-" + "x" * 40


def pytest_report_header() -> str:
    """Say up front whether the PostgreSQL half of the suite runs."""
    if PG_URL:
        return f"PostgreSQL tests: on ({PG_URL.rsplit('@', 1)[-1]})"
    return "PostgreSQL tests: skipped (TIPLINE_TEST_DATABASE_URL is not set)"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 1, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)

    def pacers(self, *channels: str) -> dict[str, Pacer]:
        """Outbox Pacers living on this clock: a 429's pause passes when the test moves time."""

        async def sleep(seconds: float) -> None:
            self.advance(seconds=seconds)

        def seconds() -> float:
            return self.now.timestamp()

        return {channel: Pacer(clock=seconds, sleep=sleep) for channel in channels}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend; PostgreSQL only when TIPLINE_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tipline.db'}"
    if not PG_URL:
        pytest.skip("TIPLINE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return PG_URL


async def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    db = Database(url)
    await db.run_on_connection(drop_everything)
    await db.dispose()


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A freshly migrated database; on PostgreSQL, the last test's schema emptied when it is
    the newest (migrating from nothing for each of hundreds of tests took most of CI's time)."""
    db = Database(db_url)
    if not db_url.startswith("postgresql") or not await db.run_on_connection(empty_if_newest):
        if db_url.startswith("postgresql"):
            await reset_postgres(db_url)
        await upgrade(db)
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """Time, under the test's control."""
    return FakeClock()


@pytest.fixture
def runtime(database: Database, clock: FakeClock) -> Runtime:
    """The runtime the channels use, on the test database and clock."""
    settings = load_settings(_env_file=None)
    return Runtime(
        db=database,
        sealer=Sealer(SECRET),
        catalog=settings.catalog(),
        timezone=settings.zone,
        limits=settings.limits(),
        clock=clock,
        bot_username="tipline_test_bot",
    )


@pytest.fixture
async def other(runtime: Runtime) -> AsyncIterator[Runtime]:
    """A second process on the same database, with the same settings and clock: a Database of
    its own (its own connections, on SQLite its own writer lock), meeting the first only in
    the database, as two processes do."""
    second = replace(runtime, db=Database(runtime.db.url))
    yield second
    await second.db.dispose()


_updates = itertools.count(1)


@dataclass
class Person:
    """Someone chatting with the bot, as a channel would present them to the handlers."""

    runtime: Runtime
    user: str = "resident-1"
    chat: str = "chat-1"
    channel: str = "console"
    private: bool = True
    last: list[Reply] = field(default_factory=list)

    def incoming(self, kind: Kind, **fields: Any) -> Incoming:
        """What the channel adapter would build for this person."""
        return Incoming(
            channel=self.channel,
            sender=self.runtime.sealer.pseudonym(self.channel, self.user),
            chat=self.chat,
            kind=kind,
            dedupe_key=f"test:{next(_updates)}",
            private=self.private,
            **fields,
        )

    async def deliver(self, msg: Incoming) -> list[Reply]:
        """Hand one update to the runtime, as the channel does, two seconds after the last."""
        if isinstance(self.runtime.clock, FakeClock):
            self.runtime.clock.advance(seconds=2)
        self.last = await self.runtime.handle(msg)
        return self.last

    async def send(self, words: str) -> list[Reply]:
        """Type a line: a /command or text."""
        if words.startswith("/"):
            command, _, args = words[1:].partition(" ")
            return await self.deliver(self.incoming(Kind.COMMAND, command=command, args=args))
        return await self.deliver(self.incoming(Kind.TEXT, text=words))

    def options(self) -> list[Option]:
        """Every button in the last answer."""
        return [option for reply in self.last for option in reply.options]

    def button(self, label: str) -> Option:
        """The button whose label contains `label`."""
        found = [o for o in self.options() if label.lower() in o.label.lower()]
        assert found, f"no button {label!r} in {[o.label for o in self.options()]}"
        return found[0]

    async def press(self, label: str) -> list[Reply]:
        """Press a button of the last answer."""
        return await self.choose(self.button(label).data)

    async def choose(self, data: str) -> list[Reply]:
        """Send a button press with arbitrary callback data."""
        return await self.deliver(self.incoming(Kind.CHOICE, choice=data))

    async def pin(self, latitude: float, longitude: float) -> list[Reply]:
        """Share a location."""
        return await self.deliver(
            self.incoming(Kind.LOCATION, location=Location(latitude, longitude))
        )

    async def photo(self, ref: str, caption: str = "") -> list[Reply]:
        """Send a photo."""
        media = (Media(MediaKind.PHOTO, ref),)
        return await self.deliver(self.incoming(Kind.MEDIA, media=media, caption=caption))

    def said(self) -> str:
        """All text of the last answer."""
        return "\n".join(reply.text for reply in self.last)

    def shows(self, key: str, /, **values: Any) -> bool:
        """Whether the last answer holds the message `key` (tests/messages.py), in Vietnamese."""
        return says(self.said(), key, **values)


@pytest.fixture
def person(runtime: Runtime) -> Person:
    """A resident in a private chat."""
    return Person(runtime)


# The shortest way through /tip: ("press", button label) or ("send", text).
MINIMAL_TIP = [
    ("press", "Ma túy"),
    ("press", "Kiến Giang"),
    ("press", "Bỏ qua"),
    ("send", "Có người bán ma túy ở cuối ngõ"),
    ("press", "Hôm nay"),
    ("press", "Không"),
    ("press", "không cho liên hệ"),
]


async def file_minimal_tip(person: Person, *, contact: bool = False) -> tuple[str, str]:
    """Send a tip by the shortest path; returns (code, passphrase) from the receipt."""
    await person.send("/tip")
    for how, what in MINIMAL_TIP[:-1]:
        await (person.press(what) if how == "press" else person.send(what))
    await person.press("cho phép" if contact else "không cho liên hệ")
    return receipt(person)


async def file_tip(
    person: Person,
    *,
    area: str = "kien giang",
    place: str = "",
    story: str = "Có người bán ma túy ở cuối ngõ",
    urgent: bool = False,
    contact: bool = False,
    top_only: bool = False,
) -> tuple[str, str]:
    """Send a tip with the given area (typed), place (skipped if empty), urgency, contact and
    recipients."""
    await person.send("/tip")
    await person.press("Ma túy")
    await person.send(area)
    await (person.send(place) if place else person.press("Bỏ qua"))
    await person.send(story)
    await person.press("Hôm nay")
    await person.press("Có" if urgent else "Không")
    if top_only:
        await person.press("Đổi người nhận")
    await person.press("cho phép" if contact else "không cho liên hệ")
    return receipt(person)


def receipt(person: Person) -> tuple[str, str]:
    """The code and passphrase printed in the last receipt."""
    values = filled(person.said(), "receipt")
    return values["code"], values["passphrase"]
