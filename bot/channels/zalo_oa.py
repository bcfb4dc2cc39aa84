"""Zalo Official Account (API v3): the seam for agencies that talk to residents through an OA.

Events arrive only by webhook, signed: `X-ZEvent-Signature: mac=<hex>`, where hex is the SHA-256
of app_id + raw body + timestamp + the OA secret key. Messages go out through
/v3.0/oa/message/cs with an access token that lasts about a day; its refresh token works once
and rotates, so the new pair is saved before the new access token is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.answers import AnswerSender
from bot.channels.base import (
    NOT_JSON_OBJECT,
    DeliveryError,
    Part,
    json_object,
    location_field,
    object_field,
    text_field,
)
from bot.channels.zalo import TypedChats, text_pieces
from bot.runtime import Runtime
from handlers.common.types import Incoming, Kind, Media, MediaKind, Reply

log = logging.getLogger("tipline.zalo_oa")

CHANNEL = "zalo_oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"
TOKEN_EXPIRED = -216
# Delivery receipts: never answered, or the bot would talk to itself.
RECEIPTS = frozenset({"user_received_message", "user_seen_message"})
JSONDict = dict[str, Any]


class ZaloOAError(Exception):
    """An OA API answer with a non-zero `error` (it comes with HTTP 200)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}".strip())
        self.code = code


def signature_ok(body: bytes, header: str, *, secret: str) -> bool:
    """Whether a webhook call was signed with the OA secret key (constant-time compare)."""
    event = json_object(body)
    if event is None or "app_id" not in event or "timestamp" not in event:
        return False
    app_id, timestamp = str(event["app_id"]), str(event["timestamp"])
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode())
    offered = header.strip().removeprefix("mac=")
    return hmac.compare_digest(offered.encode(), digest.hexdigest().encode())


class TokenFile:
    """The OA's access and refresh tokens in a file only this user can read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[str, str]:
        """(access token, refresh token) as last saved."""
        data = json.loads(self.path.read_text("utf-8"))
        return str(data["access_token"]), str(data["refresh_token"])

    def save(self, access: str, refresh: str) -> None:
        """Replace the pair atomically: a crash leaves the old pair or the new, never half."""
        fresh = self.path.with_suffix(".new")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"access_token": access, "refresh_token": refresh}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        fresh.replace(self.path)


class ZaloOAClient:
    """Sends consultation messages, refreshing the rotating token when the OA says it expired."""

    def __init__(
        self, app_id: str, secret_key: str, tokens: TokenFile, *, api_root: str, oauth_root: str
    ) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.tokens = tokens
        self.api_root = api_root.rstrip("/")
        self.oauth_root = oauth_root.rstrip("/")
        self._session: ClientSession | None = None
        self._refreshing = asyncio.Lock()

    async def send_text(self, user_id: str, text: str) -> None:
        """One text to a user; an expired token is refreshed once and the message sent again."""
        access, _ = self.tokens.load()
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        url = f"{self.api_root}/v3.0/oa/message/cs"
        answer = await self._post(url, headers={"access_token": access}, json=body)
        if answer.get("error") == TOKEN_EXPIRED:
            access = await self.refresh(expired=access)
            answer = await self._post(url, headers={"access_token": access}, json=body)
        if answer.get("error", 0) != 0:
            raise ZaloOAError(int(answer["error"]), str(answer.get("message", "")))

    async def refresh(self, *, expired: str) -> str:
        """A new access token; the rotated refresh token is saved before it is used."""
        async with self._refreshing:
            access, refresh = self.tokens.load()
            if access != expired:
                return access  # another send refreshed it while this one waited
            answer = await self._post(
                f"{self.oauth_root}/v4/oa/access_token",
                headers={"secret_key": self.secret_key},
                data={
                    "refresh_token": refresh,
                    "app_id": self.app_id,
                    "grant_type": "refresh_token",
                },
            )
            if "access_token" not in answer or "refresh_token" not in answer:
                raise ZaloOAError(int(answer.get("error", -1)), "token refresh refused")
            self.tokens.save(str(answer["access_token"]), str(answer["refresh_token"]))
            log.info("zalo OA access token refreshed")
            return str(answer["access_token"])

    async def _post(self, url: str, **request: Any) -> JSONDict:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=20))
        try:
            async with self._session.post(url, **request) as response:
                answer = await response.json(content_type=None)
        except (ClientError, TimeoutError, ValueError) as error:
            raise ZaloOAError(0, type(error).__name__) from None
        if not isinstance(answer, dict):
            raise ZaloOAError(0, "not an object")
        return answer

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class ZaloOAChannel(TypedChats):
    """An Official Account's webhook in, consultation messages out, the same handlers."""

    name = CHANNEL

    def __init__(self, runtime: Runtime, client: ZaloOAClient, *, answers: AnswerSender) -> None:
        super().__init__(runtime, answers)
        self.client = client

    async def start(self) -> None:
        """Nothing to connect (the OA calls the webhook): deliver what was owed."""
        self.client.tokens.load()  # a missing or unreadable token file stops the start
        await self.deliver_owed()

    async def stop(self) -> None:
        """Let running events finish, disconnect."""
        await self.finish()
        await self.client.close()

    def to_incoming(self, event: JSONDict) -> Incoming | None:
        """Normalise an OA event; None for receipts, unfollows and anything without a sender."""
        name = text_field(event.get("event_name"))
        user = text_field(object_field(event.get("sender")).get("id"))
        if not user or name in RECEIPTS or name == "unfollow":
            return None
        message = object_field(event.get("message"))
        unique = text_field(message.get("msg_id")) or f"{name}:{text_field(event.get('timestamp'))}"
        base = self.base(CHANNEL, user, user, unique)
        if name == "follow":
            return Incoming(kind=Kind.COMMAND, command="start", **base)
        if name == "user_send_text":
            return self.typed(base, user, text_field(message.get("text")))
        payload = _first_attachment(message)
        pin = location_field(payload.get("coordinates"))
        if name == "user_send_location" and pin is not None:
            return Incoming(kind=Kind.LOCATION, location=pin, **base)
        if name == "user_send_image" and text_field(payload.get("url")):
            photo = Media(MediaKind.PHOTO, text_field(payload["url"]))
            caption = text_field(message.get("text"))
            return Incoming(kind=Kind.MEDIA, media=(photo,), caption=caption, **base)
        return Incoming(kind=Kind.UNSUPPORTED, unsupported="other", **base)

    async def process(self, event: JSONDict) -> None:
        """Handle one event in its user's turn."""
        msg = self.to_incoming(event)
        if msg is not None:
            await self.answer(msg)

    def add_webhook(self, app: web.Application, path: str) -> None:
        """Take the OA's events at `path`: a body that is not a JSON object gets 400, a bad
        signature 403, an event an immediate 200 (the OA wants an answer within 2 s; the work
        goes on after)."""

        async def receive(request: web.Request) -> web.Response:
            body = await request.read()
            event = json_object(body)
            if event is None:  # the signature is read from the body, so this comes first
                return web.Response(status=400, text=NOT_JSON_OBJECT)
            header = request.headers.get(SIGNATURE_HEADER, "")
            if not signature_ok(body, header, secret=self.client.secret_key):
                return web.Response(status=403, text="forbidden")
            self.in_background(self.process(event))
            return web.json_response({"error": 0})

        app.router.add_post(path, receive)

    def parts(self, chat: str, reply: Reply, *, offer: bool = True) -> list[Part]:
        """A reply as consultation texts (options numbered, split at 2,000 characters)."""
        parts = [self._send(chat, piece) for piece in text_pieces(reply)]
        return self.offering(chat, reply.options, parts) if offer and reply.options else parts

    def _send(self, chat: str, piece: str) -> Part:
        async def send() -> None:
            try:
                await self.client.send_text(chat, piece)
            except ZaloOAError as error:
                raise DeliveryError(f"zalo oa {error.code}") from None

        return send


def _first_attachment(message: JSONDict) -> JSONDict:
    attachments = message.get("attachments")
    first = attachments[0] if isinstance(attachments, list) and attachments else None
    return object_field(object_field(first).get("payload"))
