"""What every channel shares: the delivery contract and message splitting."""

from __future__ import annotations

import asyncio
import enum
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from handlers.common.types import Location, Reply

# One platform call (a text, a picture, a file): the unit the outbox paces and counts.
Part = Callable[[], Awaitable[object]]


class DeliveryError(Exception):
    """A message the platform did not take; says whether and when to try again."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        transient: bool = False,
    ):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent
        # The network or the platform's servers, not the message: waiting heals it.
        self.transient = transient


class Sender(Protocol):
    """A channel that can deliver a reply to a chat it knows by address."""

    name: str

    def parts(self, chat: str, reply: Reply) -> list[Part]:
        """The platform calls that deliver a reply, in order; each raises DeliveryError."""


class ChatChannel(Sender, Protocol):
    """A chat platform the bot runs on: started, stopped, and able to deliver."""

    async def start(self) -> None:
        """Connect and start receiving."""

    async def stop(self) -> None:
        """Stop receiving, finish what is running, disconnect."""


class Refusal(enum.StrEnum):
    """Why a platform did not hand over a file."""

    GONE = "gone"  # an unknown or expired file id
    TOO_BIG = "too_big"  # over what the platform lets a bot download
    UNREACHABLE = "unreachable"  # the network, a timeout, the platform's servers


class FileRefused(Exception):
    """A file the platform did not hand over; never carries an address (it holds the token)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class Download:
    """A file coming from its platform: its size when known, the extension the platform gave
    it (unchecked), and its bytes as they arrive (FileRefused if the transfer breaks)."""

    size: int | None
    suffix: str
    chunks: AsyncIterator[bytes]


class FileSource(Protocol):
    """A platform the desk can fetch a tip's attachment from, by the reference stored."""

    def download(self, ref: str) -> AbstractAsyncContextManager[Download]:
        """The file, open while the context lasts; FileRefused when the platform will not."""


class ChatTurns:
    """One turn at a time per chat, in arrival order; a chat nobody is waiting on costs nothing.

    A lock per chat kept for ever would grow with every chat that ever wrote.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def turn(self, chat: str) -> AsyncIterator[None]:
        """Wait for the chat's earlier messages to be done, then hold its turn."""
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] = self._users.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat] -= 1
            if not self._users[chat]:
                del self._users[chat], self._locks[chat]

    @property
    def chats(self) -> int:
        """How many chats have a message being handled or waiting."""
        return len(self._locks)


async def deliver(sender: Sender, chat: str, reply: Reply) -> None:
    """Send every part of a reply, one after the other."""
    for part in sender.parts(chat, reply):
        await part()


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into pieces of at most `limit` characters, at line breaks where possible.

    Nothing is dropped: a single line longer than the limit is cut at spaces, and a word
    longer than the limit is cut where it must be.
    """
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for chunk in _fit(line, limit):
            candidate = f"{current}\n{chunk}" if current else chunk
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = chunk
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [text[:limit]]


def _fit(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    chunks: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        chunks.append(line[:cut])
        line = line[cut:].lstrip(" ")
    chunks.append(line)
    return chunks


NOT_JSON_OBJECT = "not a JSON object"


def json_object(body: bytes) -> dict[str, Any] | None:
    """A webhook body as the JSON object it should be; None for anything else."""
    try:
        # UTF-8 whatever the request's charset says: a made-up charset is no reason for a 500.
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep, "[[[[..."
        return None
    return payload if isinstance(payload, dict) else None


def add_secret_webhook(
    app: web.Application,
    path: str,
    *,
    header: str,
    secret: str,
    is_update: Callable[[dict[str, Any]], bool],
    handle: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Serve a platform's webhook at `path`: a missing or wrong secret header gets 403, a body
    that is not a JSON object or not an update 400; an update is handled before the answer, 200."""

    async def receive(request: web.Request) -> web.Response:
        offered = request.headers.get(header, "")
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        payload = json_object(await request.read())
        if payload is None:
            return web.Response(status=400, text=NOT_JSON_OBJECT)
        if not is_update(payload):
            return web.Response(status=400, text="not an update")
        await handle(payload)
        return web.json_response({"ok": True})

    app.router.add_post(path, receive)


# The Zalo platforms' updates are read field by field: one of an unexpected type reads as
# absent, so that a malformed update is skipped (or its text taken without it), never a crash.


def object_field(value: Any) -> dict[str, Any]:
    """A JSON object where one is expected; empty for anything else."""
    return value if isinstance(value, dict) else {}


def text_field(value: Any) -> str:
    """A string or number field as text; anything else (absent, an object) as empty."""
    ok = isinstance(value, str | int | float) and not isinstance(value, bool)
    return str(value) if ok and value != "" else ""


def location_field(where: Any) -> Location | None:
    """A {latitude, longitude} object as a Location; None for anything else."""
    try:
        return Location(float(where["latitude"]), float(where["longitude"]))
    except (KeyError, TypeError, ValueError):
        return None
