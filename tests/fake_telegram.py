"""A fake Telegram Bot API: a real aiohttp server on 127.0.0.1 that records every call.

Point python-telegram-bot at it with
``ApplicationBuilder().base_url(f"{api.root}/bot").base_file_url(f"{api.root}/file/bot")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from aiohttp import ClientSession, web

from tests.local_server import LocalFake

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-token-abc"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# Free-text parameters are never JSON-decoded, even when they look like JSON.
_TEXT_PARAMS = frozenset(
    {"text", "caption", "question", "explanation", "title", "description", "url", "secret_token"}
)
# Update kinds Telegram leaves out unless they are asked for by name.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_MEDIA_FIELDS: dict[str, JSONDict] = {
    "document": {},
    "video": {"width": 640, "height": 360, "duration": 5},
    "voice": {"duration": 3},
    "audio": {"duration": 30},
}


# The Bot API hands bots files of up to 20 MB; getFile refuses bigger ones.
MOST_FILE_BYTES = 20 * 1024 * 1024

FLOOD_PER_SECOND = 30
FLOOD_CHAT_BURST = 3  # then one a second to that chat


@dataclass
class Call:
    """One Bot API call the fake received and the `result` it answered (None when it failed)."""

    method: str
    params: JSONDict
    at: float
    failed: bool = False
    result: Any = None

    def __str__(self) -> str:
        shown = {
            k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v)
            for k, v in self.params.items()
        }
        return f"{self.method}({shown}){' FAILED' if self.failed else ''}"


@dataclass(frozen=True)
class Upload:
    """A file sent to the fake as a multipart part."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None
    hang: float | None = None  # held this long, then the connection dropped unanswered


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        hang: float | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.hang = hang


def _bad_request(why: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {why}")


def _decode(key: str, value: str) -> Any:
    """Decode a JSON-encoded object or array from a form field; leave everything else a string."""
    if key in _TEXT_PARAMS or not value.startswith(("{", "[")):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _matches(params: JSONDict, match: dict[str, Any]) -> bool:
    return all(
        key in params and (params[key] == want or _as_text(params[key]) == _as_text(want))
        for key, want in match.items()
    )


def _unique_id(file_id: str) -> str:
    return "AQAD" + hashlib.sha256(file_id.encode()).hexdigest()[:12]


def _photo_sizes(file_id: str) -> list[JSONDict]:
    return [
        {
            "file_id": f"{file_id}-m",
            "file_unique_id": _unique_id(f"{file_id}-m"),
            "width": 320,
            "height": 240,
            "file_size": 12_000,
        },
        {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "width": 1280,
            "height": 960,
            "file_size": 120_000,
        },
    ]


def _fake_jpeg(file_id: str) -> bytes:
    return b"\xff\xd8\xff\xe0 fake jpeg " + file_id.encode()


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    return int(time.time())


class FakeTelegramAPI(LocalFake):
    """A stand-in for https://api.telegram.org that records calls and serves queued updates."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int = 123456,
        username: str = "tipline_test_bot",
        first_name: str = "Tipline Test",
        latency: float = 0.0,
        flood_control: bool = False,
    ) -> None:
        self.token = token
        # Telegram's documented broadcast limits, enforced with 429 when asked for.
        self.flood_control = flood_control
        self.flood_refusals = 0
        self._sent_at: deque[float] = deque()
        self._chat_full_at: dict[int, float] = {}
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.latency = latency
        self.calls: list[Call] = []
        # Texts that reached each chat, kept as they arrive: a test waiting on hundreds of
        # chats re-checks after every call, and scanning every call each time held this
        # server's loop for most of a second (400 chats), long enough for the bot to time out
        # and send again what had arrived.
        self._texts: defaultdict[str, list[str]] = defaultdict(list)
        # The files Telegram keeps, by file id: only these can be fetched (getFile).
        self.files: dict[str, bytes] = {}
        self._paths_of: dict[str, str] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self._updates: list[JSONDict] = []
        self._update_arrived = asyncio.Event()
        self._changed = asyncio.Condition()
        self._closing = False
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._allowed_updates: list[str] | None = None
        self._commands: dict[str, list[JSONDict]] = {}
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._message_ids: defaultdict[int, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._update_ids = 1000
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._upload_ids = itertools.count(1)
        self._file_paths: dict[str, str] = {}
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": lambda _: self._get_me(),
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._media_sender("photo"),
            "sendDocument": self._media_sender("document"),
            "sendVideo": self._media_sender("video"),
            "sendVoice": self._media_sender("voice"),
            "sendAudio": self._media_sender("audio"),
            "copyMessage": self._copy_message,
            "editMessageText": lambda p: self._edit_message(p, text=True),
            "editMessageReplyMarkup": lambda p: self._edit_message(p, text=False),
            "answerCallbackQuery": lambda _: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda _: self._webhook_info(),
            "getFile": self._get_file,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": self._delete_commands,
            "getMyCommands": lambda p: self._commands.get(self._commands_key(p), []),
        }
        self._canonical = {name.lower(): name for name in self._handlers}

    # --- lifecycle -----------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """The Bot API's methods and its file downloads."""
        app.router.add_route("*", "/bot{token}/{method}", self._serve_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._serve_file)

    def closing(self) -> None:
        """End pending long polls."""
        self._closing = True
        self._update_arrived.set()

    @property
    def bot_user(self) -> JSONDict:
        """The bot as the User object in its messages' `from`."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _get_me(self) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # --- recording and waiting -----------------------------------------------------------------

    def calls_to(self, method: str, **match: Any) -> list[Call]:
        """Calls of `method` whose params match, comparing as text (chat_id 42 matches "42")."""
        return [c for c in self.calls if c.method == method and _matches(c.params, match)]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """Texts of the successful sendMessage calls to `chat_id`, in order."""
        return list(self._texts.get(_as_text(chat_id), ()))

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10,  # noqa: ASYNC109 - the waiting API is the point
        what: str = "condition",
    ) -> None:
        """Wait until `predicate()` holds, re-checking on every call; AssertionError on timeout."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                recent = "\n".join(f"  {call}" for call in self.calls[-8:]) or "  (none)"
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; "
                    f"{len(self.calls)} calls, the last ones:\n{recent}"
                ) from None

    async def wait_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,  # noqa: ASYNC109 - the waiting API is the point
        **match: Any,
    ) -> list[Call]:
        """Wait until at least `count` calls of `method` match, then return all matching calls."""
        await self.wait_for(
            lambda: len(self.calls_to(method, **match)) >= count,
            timeout,
            f"{count} {method} call(s) matching {match}",
        )
        return self.calls_to(method, **match)

    # --- feeding updates -----------------------------------------------------------------------

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def push(self, update: JSONDict) -> int:
        """Queue an update for getUpdates, numbering it if needed; return its update_id."""
        update = self.numbered(update)
        self._updates.append(update)
        self._update_arrived.set()
        return int(update["update_id"])

    async def post_webhook(self, url: str, update: JSONDict, secret: str | None = None) -> int:
        """POST an update to the bot's webhook like Telegram does; return the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            ClientSession() as session,
            session.post(url, json=self.numbered(update), headers=headers) as response,
        ):
            return response.status

    def user(
        self,
        user_id: int,
        first_name: str = "Tester",
        username: str | None = None,
        last_name: str | None = None,
        language_code: str = "vi",
    ) -> JSONDict:
        """A Telegram User object for a person."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        user["language_code"] = language_code
        return user

    def message_update(
        self,
        user: JSONDict,
        chat_id: int | None = None,
        chat_type: str | None = None,
        **message_fields: Any,
    ) -> JSONDict:
        """An update with a new message from `user` carrying `message_fields`."""
        return {"message": self._message(user, chat_id, chat_type, **message_fields)}

    def text_update(
        self,
        user: JSONDict,
        text: str,
        chat_id: int | None = None,
        *,
        chat_type: str | None = None,
        forward: bool = False,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A text message; a leading /command gets its bot_command entity unless given."""
        fields: JSONDict = {"text": text}
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if entities:
            fields["entities"] = entities
        if forward:
            fields["forward_origin"] = {
                "type": "user",
                "date": _now() - 3600,
                "sender_user": self.user(777_001, "Original Sender", language_code="vi"),
            }
        return self.message_update(user, chat_id, chat_type, **fields)

    def callback_update(
        self,
        user: JSONDict,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        *,
        message_text: str = "Chọn một mục:",
        with_keyboard: bool = True,
    ) -> JSONDict:
        """A button press on the bot's message `message_id`, carrying callback `data`."""
        chat = self._chat(user, chat_id, None)
        message: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat,
            "date": _now() - 60,
            "text": message_text,
        }
        if with_keyboard:
            message["reply_markup"] = {"inline_keyboard": [[{"text": data, "callback_data": data}]]}
        self._messages[(chat["id"], message_id)] = message
        return {
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": user,
                "message": message,
                "chat_instance": str(-abs(hash((self.bot_id, chat["id"])))),
                "data": data,
            }
        }

    def photo_update(
        self, user: JSONDict, file_id: str, caption: str | None = None, chat_id: int | None = None
    ) -> JSONDict:
        """A photo message whose largest size is `file_id` (kept as a small fake JPEG, unless
        the test put its bytes in `files`)."""
        for size in _photo_sizes(file_id):
            self.files.setdefault(size["file_id"], _fake_jpeg(size["file_id"]))
        fields: JSONDict = {"photo": _photo_sizes(file_id)}
        if caption is not None:
            fields["caption"] = caption
        return self.message_update(user, chat_id, **fields)

    def keep_file(self, file_id: str, data: bytes, file_path: str) -> None:
        """A file Telegram keeps for the bot, served by getFile at `file_path` (its real paths
        look like "documents/file_7.pdf")."""
        self.files[file_id] = data
        self._paths_of[file_id] = file_path

    def location_update(
        self, user: JSONDict, lat: float, lon: float, chat_id: int | None = None
    ) -> JSONDict:
        """A shared location."""
        return self.message_update(user, chat_id, location={"latitude": lat, "longitude": lon})

    def contact_update(
        self, user: JSONDict, phone: str, first_name: str, chat_id: int | None = None
    ) -> JSONDict:
        """The user sharing their own contact (as a request_contact button does)."""
        contact = {"phone_number": phone, "first_name": first_name, "user_id": user["id"]}
        return self.message_update(user, chat_id, contact=contact)

    def sticker_update(self, user: JSONDict, chat_id: int | None = None) -> JSONDict:
        """A sticker message."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAEStickerFileId",
            "file_unique_id": _unique_id("sticker"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.message_update(user, chat_id, sticker=sticker)

    def edited_text_update(
        self, user: JSONDict, text: str, message_id: int, chat_id: int | None = None
    ) -> JSONDict:
        """An edit of the user's earlier text message `message_id`."""
        message = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat(user, chat_id, None),
            "date": _now() - 60,
            "edit_date": _now(),
            "text": text,
        }
        return {"edited_message": message}

    # --- fault injection -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        hang: float | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail; `retry_after` answers 429 flood control,
        `hang` holds the call that many seconds and then drops the connection unanswered."""
        if retry_after is not None:
            fault = _Fault(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        elif hang is not None:
            fault = _Fault(0, "no answer", None, hang)
        else:
            fault = _Fault(status, description, None)
        self._faults[method].extend([fault] * times)

    def clear_faults(self) -> None:
        """Answer every call normally again."""
        self._faults.clear()

    # --- HTTP ----------------------------------------------------------------------------------

    async def _serve_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(_ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        method = self._canonical.get(name.lower(), name)
        params = await self._read_params(request)
        result: Any = None
        error: _ApiError | None = None
        try:
            result = self._answer(method, params)
        except _ApiError as exc:
            error = exc
        if error is not None and error.hang is not None:
            return await self._hang_up(request, method, params, error.hang)
        call = Call(method, params, time.monotonic(), failed=error is not None, result=result)
        self.calls.append(call)
        if method == "sendMessage" and error is None:
            self._texts[_as_text(params.get("chat_id"))].append(str(params.get("text", "")))
        async with self._changed:
            self._changed.notify_all()
        if self.latency:
            await asyncio.sleep(self.latency)
        if error is not None:
            return _error_response(error)
        if method == "getUpdates":
            call.result = result = await self._poll(params)
        return web.json_response({"ok": True, "result": result})

    async def _hang_up(
        self, request: web.Request, method: str, params: JSONDict, seconds: float
    ) -> web.Response:
        """A call that never arrives: held, then the connection closed with no answer."""
        self.calls.append(Call(method, params, time.monotonic(), failed=True))
        await asyncio.sleep(seconds)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=504)

    async def _serve_file(self, request: web.Request) -> web.Response:
        # Only a path getFile gave out, for a file of at most 20 MB, with the bot's token.
        file_id = self._file_paths.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or file_id is None:
            return _error_response(_ApiError(404, "Not Found"))
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {key: _decode(key, value) for key, value in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = Upload(value.filename, value.content_type, value.file.read())
            elif isinstance(value, str):
                params[key] = _decode(key, value)
            else:
                params[key] = _decode(key, bytes(value).decode())
        return params

    def _answer(self, method: str, params: JSONDict) -> Any:
        faults = self._faults.get(method)
        if faults:
            fault = faults.popleft()
            raise _ApiError(fault.status, fault.description, fault.retry_after, fault.hang)
        if self.flood_control and method.startswith("send"):
            self._check_flood(self._chat_id(params))
        handler = self._handlers.get(method)
        if handler is None:
            raise _ApiError(404, "Not Found")
        return handler(params)

    def _check_flood(self, chat_id: int) -> None:
        """More than 30 messages in any second, or to one chat more than a burst of 3 and then
        one a second: 429."""
        now = time.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 1.0:
            self._sent_at.popleft()
        # The chat's bucket holds 3 messages and fills up by one a second; full at this time.
        full_at = max(self._chat_full_at.get(chat_id, now), now)
        too_fast = full_at - now > FLOOD_CHAT_BURST - 1
        if len(self._sent_at) >= FLOOD_PER_SECOND or too_fast:
            self.flood_refusals += 1
            raise _ApiError(429, "Too Many Requests: retry after 1", 1)
        self._sent_at.append(now)
        self._chat_full_at[chat_id] = full_at + 1.0

    # --- updates -------------------------------------------------------------------------------

    def numbered(self, update: JSONDict) -> JSONDict:
        """The update with its update_id, the next one if it has none."""
        if "update_id" not in update:
            update = {"update_id": self._update_ids, **update}
        self._update_ids = max(self._update_ids, int(update["update_id"]) + 1)
        return update

    def _get_updates(self, params: JSONDict) -> None:
        """Refuse under a webhook, confirm below `offset`; the answer comes from `_poll`."""
        if self.webhook_url:
            raise _ApiError(409, _CONFLICT)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        offset = int(params.get("offset", 0))
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._updates = [u for u in self._updates if self._wanted(u)]

    def _wanted(self, update: JSONDict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    async def _poll(self, params: JSONDict) -> list[JSONDict]:
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout", 0))
        while True:
            batch = [u for u in self._updates if self._wanted(u)][:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing or self.webhook_url:
                return batch
            self._update_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_arrived.wait(), remaining)

    # --- chats and messages --------------------------------------------------------------------

    def _chat(self, user: JSONDict, chat_id: int | None, chat_type: str | None) -> JSONDict:
        """The chat a builder's message lands in, remembered for the bot's answers there."""
        chat_id = user["id"] if chat_id is None else chat_id
        kind = chat_type or ("group" if chat_id < 0 else "private")
        chat: JSONDict = {"id": chat_id, "type": kind}
        if kind == "private":
            chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        else:
            chat["title"] = f"Test group {abs(chat_id)}"
        self._chats[chat_id] = chat
        return chat

    def _message(
        self, user: JSONDict, chat_id: int | None, chat_type: str | None, **fields: Any
    ) -> JSONDict:
        chat = self._chat(user, chat_id, chat_type)
        return {
            "message_id": next(self._message_ids[chat["id"]]),
            "from": user,
            "chat": chat,
            "date": _now(),
            **fields,
        }

    def _chat_id(self, params: JSONDict, key: str = "chat_id") -> int:
        value = params.get(key)
        if value is None or value == "":
            raise _bad_request(f"{key} is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad_request("chat not found") from None

    def _known_chat(self, chat_id: int) -> JSONDict:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Test group {abs(chat_id)}"}
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}

    def _bot_message(self, chat_id: int, **fields: Any) -> JSONDict:
        message_id = next(self._message_ids[chat_id])
        message: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._known_chat(chat_id),
            "date": _now(),
        }
        message.update({k: v for k, v in fields.items() if v is not None})
        self._messages[(chat_id, message_id)] = message
        return message

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        text = str(params.get("text", ""))
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise _bad_request("message is too long")
        return self._bot_message(
            chat_id,
            text=text,
            entities=params.get("entities"),
            reply_markup=_inline_markup(params),
        )

    def _media_sender(self, kind: str) -> Callable[[JSONDict], JSONDict]:
        def send(params: JSONDict) -> JSONDict:
            chat_id = self._chat_id(params)
            sent = params.get(kind)
            if not sent:
                raise _bad_request(f"there is no {kind} in the request")
            caption = params.get("caption")
            if caption is not None and len(str(caption)) > MAX_CAPTION:
                raise _bad_request("message caption is too long")
            if isinstance(sent, Upload):
                file_id = f"BQACAgUpload{next(self._upload_ids):04d}"
                suffix = PurePosixPath(sent.filename or "").suffix
                self.keep_file(file_id, sent.data, f"{kind}s/file_{file_id[-4:]}{suffix}")
                extra: JSONDict = {"file_name": sent.filename, "mime_type": sent.content_type}
            else:
                file_id, extra = str(sent), {}
            media: Any
            if kind == "photo":
                media = _photo_sizes(file_id)
            else:
                media = {"file_id": file_id, "file_unique_id": _unique_id(file_id)}
                media.update(_MEDIA_FIELDS[kind])
                if kind == "document":
                    media.update(extra)
            return self._bot_message(
                chat_id,
                **{kind: media},
                caption=caption,
                reply_markup=_inline_markup(params),
            )

        return send

    def _copy_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        self._chat_id(params, "from_chat_id")
        if not params.get("message_id"):
            raise _bad_request("message to copy not found")
        return {"message_id": next(self._message_ids[chat_id])}

    def _edit_message(self, params: JSONDict, *, text: bool) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id", 0))
        if message_id <= 0:
            raise _bad_request("message identifier is not specified")
        message = dict(
            self._messages.get((chat_id, message_id))
            or {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._known_chat(chat_id),
                "date": _now(),
            }
        )
        if text:
            new_text = str(params.get("text", ""))
            if not new_text.strip():
                raise _bad_request("message text is empty")
            if len(new_text) > MAX_TEXT:
                raise _bad_request("message is too long")
            message["text"] = new_text
        message.pop("reply_markup", None)
        markup = _inline_markup(params)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = _now()
        self._messages[(chat_id, message_id)] = message
        return message

    # --- webhook, files, commands --------------------------------------------------------------

    def _set_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = str(params.get("url", ""))
        self.webhook_secret = params.get("secret_token") if self.webhook_url else None
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._drop_if_asked(params)
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        self._drop_if_asked(params)
        return True

    def _drop_if_asked(self, params: JSONDict) -> None:
        if _as_text(params.get("drop_pending_updates", False)).lower() == "true":
            self._updates.clear()

    def _webhook_info(self) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info.update({"max_connections": 40, "ip_address": "127.0.0.1"})
        if self._allowed_updates is not None:
            info["allowed_updates"] = self._allowed_updates
        return info

    def _get_file(self, params: JSONDict) -> JSONDict:
        """As the Bot API answers: 400 for an id it does not know and for a file over 20 MB
        (bots may not download those), else the path to download it from."""
        file_id = str(params.get("file_id", ""))
        if not file_id:
            raise _bad_request("file_id is empty")
        data = self.files.get(file_id)
        if data is None:
            raise _bad_request("invalid file_id")
        if len(data) > MOST_FILE_BYTES:
            raise _bad_request("file is too big")
        file_path = self._paths_of.get(file_id, f"photos/{file_id}.jpg")
        self._file_paths[file_path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_size": len(data),
            "file_path": file_path,
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = _as_text(params.get("scope", {"type": "default"}))
        return f"{scope}|{params.get('language_code', '')}"

    def _set_commands(self, params: JSONDict) -> bool:
        self._commands[self._commands_key(params)] = list(params.get("commands", []))
        return True

    def _delete_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True


def _inline_markup(params: JSONDict) -> JSONDict | None:
    """The inline keyboard of a call, checked like Telegram does; other markups are not echoed."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise _bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _bad_request("BUTTON_DATA_INVALID")
    return markup


def _error_response(error: _ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.status)
