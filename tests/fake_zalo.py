"""A stand-in for the Zalo Bot Platform (bot-api.zaloplatforms.com): a real local HTTP server.

It behaves as PLATFORMS.md describes the platform: JSON POSTs to /bot{token}/{method}, answers
{ok, result} or {ok: false, error_code, description} (an error may come with HTTP 200),
getUpdates hands out one update per call with no offset, texts are 1-2,000 characters, and a
webhook is called with the X-Bot-Api-Secret-Token header.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web

from tests.local_server import LocalFake

JSONDict = dict[str, Any]
TOKEN = "4417:zalo-test-secret"
MAX_TEXT = 2000


@dataclass
class ZaloCall:
    """One call the fake received, and whether it answered ok."""

    method: str
    params: JSONDict
    ok: bool


class FakeZaloBotAPI(LocalFake):
    """Records calls, serves queued updates one per getUpdates, fails on request."""

    def __init__(self, token: str = TOKEN, *, wrap_updates: bool = True) -> None:
        self.token = token
        self.wrap_updates = wrap_updates
        self.calls: list[ZaloCall] = []
        self.webhook: JSONDict = {}
        self._updates: deque[JSONDict] = deque()
        self._arrived = asyncio.Event()
        self._faults: dict[str, deque[tuple[int, JSONDict]]] = {}
        self._message_ids = itertools.count(1)
        self.handed_out: list[JSONDict] = []  # updates getUpdates answered with, in order
        self.polls = 0  # getUpdates calls received, a long poll still held included
        # Texts accepted per chat, kept as they come: tests waiting on hundreds of chats look
        # often, and scanning every call each time would hold this server up.
        self._texts: defaultdict[str, list[str]] = defaultdict(list)

    def routes(self, app: web.Application) -> None:
        """The Bot API's one route: POST /bot{token}/{method}."""
        app.router.add_post("/bot{token}/{method}", self._serve)

    def closing(self) -> None:
        """End a pending long poll."""
        self._arrived.set()

    # --- what tests do ---

    def text_update(self, user_id: str, text: str, *, message_id: str | None = None) -> JSONDict:
        """A text message from a user in their private chat."""
        return self._update("message.text.received", user_id, message_id, text=text)

    def image_update(self, user_id: str, url: str, caption: str = "") -> JSONDict:
        """A photo: Zalo gives its URL."""
        return self._update("message.image.received", user_id, None, photo_url=url, caption=caption)

    def sticker_update(self, user_id: str) -> JSONDict:
        """A sticker, which Tipline does not take."""
        return self._update("message.sticker.received", user_id, None, sticker="abc")

    def push(self, update: JSONDict) -> None:
        """Queue an update for the next getUpdates."""
        self._updates.append(update)
        self._arrived.set()

    def fail_next(
        self, method: str, *, error_code: int = 500, http: int = 200, times: int = 1
    ) -> None:
        """Make the next `times` calls of `method` answer ok: false (HTTP 200 unless told)."""
        answer = {"ok": False, "error_code": error_code, "description": f"Error {error_code}"}
        self._faults.setdefault(method, deque()).extend([(http, answer)] * times)

    def clear_faults(self) -> None:
        """Answer every call normally again."""
        self._faults.clear()

    def sent_texts(self, chat_id: str) -> list[str]:
        """Texts the bot sent to a chat that the fake accepted, in order."""
        return list(self._texts.get(chat_id, ()))

    async def wait_texts(self, chat_id: str, count: int, timeout: float = 10) -> list[str]:  # noqa: ASYNC109
        """Wait until the bot sent `count` texts to the chat; returns them all."""
        await self.wait_for(lambda: len(self.sent_texts(chat_id)) >= count, timeout)
        return self.sent_texts(chat_id)

    async def wait_for(self, done: Callable[[], bool], timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until `done()` holds (polling what the fake has seen)."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen in {timeout} s; calls: {self.calls[-5:]}")
            await asyncio.sleep(0.02)

    async def post_webhook(self, url: str, update: JSONDict, secret: str | None) -> int:
        """Call the bot's webhook as Zalo does; returns the HTTP status."""
        headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as r:
            return r.status

    # --- the server ---

    def _update(self, event: str, user_id: str, message_id: str | None, **message: Any) -> JSONDict:
        body = {
            "event_name": event,
            "message": {
                "from": {"id": user_id, "display_name": f"Người dùng {user_id}", "is_bot": False},
                "chat": {"id": user_id, "chat_type": "PRIVATE"},
                "message_id": message_id or f"m{next(self._message_ids)}",
                "date": int(time.time() * 1000),
                **message,
            },
        }
        return {"ok": True, "result": body} if self.wrap_updates else body

    async def _serve(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: JSONDict = await request.json() if request.can_read_body else {}
        if request.match_info["token"] != self.token:
            return self._answer(method, params, 200, {"ok": False, "error_code": 401})
        faults = self._faults.get(method)
        if faults:
            status, answer = faults.popleft()
            return self._answer(method, params, status, answer)
        if method == "getUpdates":
            return await self._get_updates(params)
        handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": lambda _: {"id": "4417", "account_name": "tipline_bot"},
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda _: dict(self.webhook),
            "sendChatAction": lambda _: True,
        }
        handler = handlers.get(method)
        if handler is None:
            return self._answer(method, params, 404, {"ok": False, "error_code": 404})
        try:
            result = handler(params)
        except ValueError as error:
            answer = {"ok": False, "error_code": 400, "description": str(error)}
            return self._answer(method, params, 200, answer)
        return self._answer(method, params, 200, {"ok": True, "result": result})

    def _answer(self, method: str, params: JSONDict, status: int, body: JSONDict) -> web.Response:
        self.calls.append(ZaloCall(method, params, bool(body.get("ok"))))
        if method == "sendMessage" and body.get("ok"):
            self._texts[str(params.get("chat_id"))].append(str(params["text"]))
        return web.json_response(body, status=status)

    async def _get_updates(self, params: JSONDict) -> web.Response:
        self.polls += 1
        if self.webhook:
            answer = {"ok": False, "error_code": 409, "description": "webhook is set"}
            return self._answer("getUpdates", params, 200, answer)
        if not self._updates:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), float(params.get("timeout", 0)))
        if not self._updates:
            answer = {"ok": False, "error_code": 408, "description": "Request timeout"}
            return self._answer("getUpdates", params, 200, answer)
        # As pushed: the platform has been seen to send updates bare and wrapped.
        result = self._updates.popleft()
        self.handed_out.append(result)
        return self._answer("getUpdates", params, 200, {"ok": True, "result": result})

    def _send_message(self, params: JSONDict) -> JSONDict:
        text = str(params.get("text", ""))
        if not params.get("chat_id") or not 1 <= len(text) <= MAX_TEXT:
            raise ValueError("text must be 1-2000 characters, chat_id required")
        return {"message_id": f"b{next(self._message_ids)}", "date": int(time.time() * 1000)}

    def _send_photo(self, params: JSONDict) -> JSONDict:
        photo = str(params.get("photo", ""))
        if not photo.startswith(("http://", "https://")):
            raise ValueError("photo must be a URL")
        return {"message_id": f"b{next(self._message_ids)}", "date": int(time.time() * 1000)}

    def _delete_webhook(self, _: JSONDict) -> bool:
        self.webhook.clear()
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        secret = str(params.get("secret_token", ""))
        if not 8 <= len(secret) <= 256 or not str(params.get("url", "")).startswith("http"):
            raise ValueError("url and a secret_token of 8-256 characters are required")
        self.webhook = {"url": params["url"], "secret_token": secret}
        return True
