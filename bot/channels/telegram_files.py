"""Attachments fetched from the Telegram Bot API for the desk: getFile, then the download.

The download's address holds the bot's token, so it never leaves this module: not in a page,
a redirect, a log line or an exception's text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout

from bot.channels.base import Download, FileRefused, Refusal

# The Bot API lets a bot download files up to 20 MB; it refuses getFile for bigger ones.
MOST_BYTES = 20 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
# A stalled platform ends the download rather than hold the officer's page (and a slot).
TIMEOUT = ClientTimeout(total=300, sock_connect=10, sock_read=30)


class TelegramFiles:
    """The files Telegram keeps for the bot, by file id."""

    def __init__(self, token: str, api_root: str) -> None:
        self._methods = f"{api_root.rstrip('/')}/bot{token}"
        self._files = f"{api_root.rstrip('/')}/file/bot{token}"
        self._session: ClientSession | None = None

    def _client(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=TIMEOUT)
        return self._session

    @asynccontextmanager
    async def download(self, ref: str) -> AsyncIterator[Download]:
        """The file with this id, as Telegram streams it; FileRefused for an unknown or expired
        id, a file over 20 MB, or a platform that does not answer."""
        path, size = await self._where(ref)
        try:
            response = await self._client().get(f"{self._files}/{quote(path, safe='/')}")
        except (ClientError, TimeoutError):
            raise FileRefused(Refusal.UNREACHABLE) from None
        try:
            if response.status != 200:
                raise FileRefused(Refusal.GONE if response.status == 404 else Refusal.UNREACHABLE)
            length = response.content_length if response.content_length is not None else size
            if length is not None and length > MOST_BYTES:
                raise FileRefused(Refusal.TOO_BIG)
            suffix = PurePosixPath(path).suffix.lstrip(".").lower()
            yield Download(length, suffix, _chunks(response))
        finally:
            response.release()

    async def _where(self, ref: str) -> tuple[str, int | None]:
        """getFile: the file's path on the file server, and its size when Telegram says it."""
        try:
            async with self._client().post(
                f"{self._methods}/getFile", json={"file_id": ref}
            ) as response:
                answer: Any = await response.json(content_type=None)
        except (ClientError, TimeoutError, ValueError):
            raise FileRefused(Refusal.UNREACHABLE) from None
        if not isinstance(answer, dict):
            raise FileRefused(Refusal.UNREACHABLE)
        if not answer.get("ok"):
            raise FileRefused(_refusal(answer))
        result = answer.get("result")
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str) or not path:
            raise FileRefused(Refusal.GONE)  # Telegram gives no path for a file it no longer has
        size = result.get("file_size") if isinstance(result, dict) else None
        if isinstance(size, int) and size > MOST_BYTES:
            raise FileRefused(Refusal.TOO_BIG)
        return path, size if isinstance(size, int) else None

    async def close(self) -> None:
        """Close the connections (at the channel's stop)."""
        if self._session is not None:
            await self._session.close()


def _refusal(answer: dict[str, Any]) -> Refusal:
    """What a Bot API error means for the officer: 400 "file is too big", any other 400 (an
    invalid or expired file id) gone, the rest a platform not answering as it should."""
    if answer.get("error_code") != 400:
        return Refusal.UNREACHABLE
    too_big = "too big" in str(answer.get("description", "")).lower()
    return Refusal.TOO_BIG if too_big else Refusal.GONE


async def _chunks(response: ClientResponse) -> AsyncIterator[bytes]:
    """The body as it arrives, cut off past the limit whatever the headers said."""
    seen = 0
    try:
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            seen += len(chunk)
            if seen > MOST_BYTES:
                raise FileRefused(Refusal.TOO_BIG)
            yield chunk
    except (ClientError, TimeoutError):
        raise FileRefused(Refusal.UNREACHABLE) from None
