"""A stand-in for the Zalo OA API v3 and its OAuth token endpoint: a real local HTTP server.

Access tokens expire on request (`expire_access`); a refresh token works once and rotates.
Each send notes what the token file held when a new access token was first used, so a test
can tell whether the new refresh token was saved before that.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from tests.local_server import LocalFake

JSONDict = dict[str, Any]
APP_ID = "1234567890"
SECRET_KEY = "oa-secret-key-for-tests"


@dataclass
class OAState:
    """Which tokens the fake takes, and what it saw."""

    access: str = "access-1"
    refresh: str = "refresh-1"
    sent: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    refreshes: int = 0
    file_at_first_use: dict[str, str] = field(default_factory=dict)


class FakeZaloOA(LocalFake):
    """The OA API's /v3.0/oa/message/cs and OAuth's /v4/oa/access_token."""

    def __init__(self, read_token_file: Callable[[], str]) -> None:
        self.state = OAState()
        self.read_token_file = read_token_file
        self._serial = itertools.count(2)

    def routes(self, app: web.Application) -> None:
        """The OA send endpoint and the OAuth token endpoint."""
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v4/oa/access_token", self._refresh)

    def expire_access(self) -> None:
        """The current access token stops working (as after ~25 hours)."""
        self.state.access = "expired-" + self.state.access

    async def _send(self, request: web.Request) -> web.Response:
        token = request.headers.get("access_token", "")
        if token != self.state.access:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        self.state.file_at_first_use.setdefault(token, self.read_token_file())
        body = await request.json()
        text = str(body["message"]["text"])
        if not 1 <= len(text) <= 2000:
            return web.json_response({"error": -201, "message": "text too long"})
        self.state.sent.append((str(body["recipient"]["user_id"]), text))
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": "x"}})

    async def _refresh(self, request: web.Request) -> web.Response:
        form = await request.post()
        good = (
            request.headers.get("secret_key") == SECRET_KEY
            and form.get("app_id") == APP_ID
            and form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") == self.state.refresh
        )
        if not good:
            return web.json_response({"error": -14014, "message": "Invalid refresh token"})
        serial = next(self._serial)
        self.state.access, self.state.refresh = f"access-{serial}", f"refresh-{serial}"
        self.state.refreshes += 1
        answer = {"access_token": self.state.access, "refresh_token": self.state.refresh}
        return web.json_response({**answer, "expires_in": "90000"})


def signed(event: JSONDict, secret: str = SECRET_KEY) -> tuple[bytes, str]:
    """An OA event as the platform posts it: the raw body and its X-ZEvent-Signature."""
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(
        str(event["app_id"]).encode() + body + str(event["timestamp"]).encode() + secret.encode()
    )
    return body, f"mac={mac.hexdigest()}"


async def post_event(url: str, body: bytes, signature: str | None) -> int:
    """Post an event to the bot's OA webhook; returns the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-ZEvent-Signature"] = signature
    async with ClientSession() as session, session.post(url, data=body, headers=headers) as r:
        return r.status


_timestamps = itertools.count(1_764_000_000_000)


def oa_event(name: str, user: str, message: JSONDict | None = None) -> JSONDict:
    """An OA webhook event from a user."""
    event: JSONDict = {
        "app_id": APP_ID,
        "event_name": name,
        "sender": {"id": user},
        "recipient": {"id": "oa-1"},
        "timestamp": str(next(_timestamps)),
    }
    if message is not None:
        event["message"] = message
    return event
