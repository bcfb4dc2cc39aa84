"""Zalo Bot Platform: the same handlers for residents and officers who live on Zalo.

The platform is Telegram-like but plainer: no buttons (options become numbered lines, answered
by number or words), no message editing, no documents, photos as URLs, texts of at most 2,000
characters, one update per getUpdates call with no offset (so updates are deduplicated on
their message id), and answers that may say `ok: false` with HTTP 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers import Answer, AnswerSender
from bot.channels.base import (
    ChatTurns,
    DeliveryError,
    Part,
    add_secret_webhook,
    location_field,
    object_field,
    split_text,
    text_field,
)
from bot.channels.numbered import OfferedOptions, numbered
from bot.inbox import Inbox
from bot.runtime import Runtime
from handlers.common.matching import match_option
from handlers.common.texts import text, text_n
from handlers.common.types import Incoming, Kind, Media, MediaKind, Option, Reply
from storage.offers import get_offered, set_offered

log = logging.getLogger("tipline.zalo")

CHANNEL = "zalo"
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_SECONDS = 30
JSONDict = dict[str, Any]


class ZaloError(Exception):
    """An answer that was not `ok`, whatever its HTTP status said."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}".strip())
        self.code = code


class ZaloBotAPI:
    """JSON calls to {root}/bot{token}/{method}, each answer's `ok` checked."""

    def __init__(self, token: str, root: str) -> None:
        self.url = f"{root.rstrip('/')}/bot{token}"
        self._session: ClientSession | None = None

    async def call(self, method: str, **params: Any) -> Any:
        """Call a method; returns its result or raises ZaloError."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=POLL_SECONDS + 15))
        try:
            async with self._session.post(f"{self.url}/{method}", json=params) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (ClientError, TimeoutError, ValueError) as error:
            raise ZaloError(0, type(error).__name__) from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            found = body if isinstance(body, dict) else {}
            raise ZaloError(
                int(found.get("error_code") or status), str(found.get("description", ""))
            )
        return body.get("result")

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def unwrap(payload: Any) -> JSONDict | None:
    """An update, whether it came bare or wrapped in {"ok": true, "result": ...}."""
    if isinstance(payload, dict) and isinstance(payload.get("result"), dict):
        payload = payload["result"]
    if isinstance(payload, dict) and "event_name" in payload:
        return payload
    return None


def delivery_error(error: ZaloError) -> DeliveryError:
    """A refusal as the outbox understands it; Zalo publishes no retry delay, so 429 waits 5 s."""
    if error.code == 429:
        return DeliveryError("rate limited", retry_after=5)
    if error.code == 403:
        return DeliveryError("blocked by the user", permanent=True)
    # No answer at all (code 0) or the servers' own trouble: waiting heals it.
    return DeliveryError(f"zalo {error.code}", transient=error.code == 0 or error.code >= 500)


class TypedChats:
    """What a platform without buttons needs: the options each chat was offered, and one
    turn at a time per chat, its replies sent in order before the chat's next message."""

    name: str

    def __init__(self, runtime: Runtime, answers: AnswerSender) -> None:
        self.runtime = runtime
        self.answers = answers
        self.offered = OfferedOptions()
        self.turns = ChatTurns()
        self._working: set[asyncio.Task[None]] = set()

    def base(self, channel: str, user: str, chat: str, unique: str) -> JSONDict:
        """What every Incoming of this user carries: their pseudonym, the chat to answer, and
        an idempotence key that is keyed too, so that no chat id lands in the database."""
        return {
            "channel": channel,
            "sender": self.runtime.sealer.pseudonym(channel, user),
            "chat": chat,
            "dedupe_key": self.dedupe_key(channel, chat, unique),
        }

    def dedupe_key(self, channel: str, chat: str, unique: str) -> str:
        """The key that recognises an update again, its chat id keyed away."""
        keyed = self.runtime.sealer.digest(f"{channel}-update", f"{chat}:{unique}")
        return f"{channel}:{keyed[:40]}"

    def typed(self, base: JSONDict, chat: str, typed: str) -> Incoming:
        """A typed line: a /command, the choice it names (by number or words), or text."""
        if typed.startswith("/"):
            head, _, args = typed[1:].partition(" ")
            return Incoming(kind=Kind.COMMAND, command=head.lower(), args=args.strip(), **base)
        # With other processes alive, the choices may have been offered by another: read
        # against the database's copy when handled (see _chosen).
        option = self.offered.pick(chat, typed) if self.answers.peers.alone else None
        if option is not None:
            return Incoming(kind=Kind.CHOICE, choice=option.data, **base)
        return Incoming(kind=Kind.TEXT, text=typed, **base)

    async def deliver_owed(self) -> None:
        """Deliver from now on, starting with what was owed before a restart."""
        self.answers.serve(self)
        await self.answers.recover(self.name)

    async def answer(self, msg: Incoming, *, from_inbox: bool = False) -> None:
        """Handle one message in its chat's turn; its answer is stored and delivered after."""
        async with self.turns.turn(msg.chat):
            msg = await self._chosen(msg)
            handled = await self.runtime.handle_durably(msg, from_inbox=from_inbox)
            # The choices now open are the last ones shown; none shown, none open.
            offered = [reply.options for reply in handled.replies if reply.options]
            options = offered[-1] if offered else ()
            self.offered.offer(msg.chat, options)
            if not self.answers.peers.alone:
                await self._share_offer(msg.chat, options)
            self.answers.deliver(self.name, handled)

    def offering(self, chat: str, options: tuple[Option, ...], parts: list[Part]) -> list[Part]:
        """The calls that send a message with choices: the chat is offered them from now on,
        and, with other processes alive, in the database before the first call goes."""
        self.offered.offer(chat, options)
        if self.answers.peers.alone or not parts:
            return parts
        first = parts[0]

        async def shared_then_sent() -> None:
            await self._share_offer(chat, options)
            await first()

        return [shared_then_sent, *parts[1:]]

    def _offer_key(self, chat: str) -> str:
        return self.runtime.sealer.digest("offered-chat", f"{self.name}:{chat}")[:32]

    async def _share_offer(self, chat: str, options: tuple[Option, ...]) -> None:
        """Record what a chat is offered for every process; if that fails, a number typed to
        another one is read as text and the question is asked again: nothing is lost."""
        choices = [(option.label, option.data) for option in options]

        async def work(db: AsyncSession) -> None:
            key = self._offer_key(chat)
            await set_offered(db, chat_key=key, choices=choices, now=self.runtime.clock())

        try:
            await self.runtime.commits.run(work)
        except Exception as error:
            log.warning("offered choices not shared: %s", type(error).__name__)

    async def _chosen(self, msg: Incoming) -> Incoming:
        """With other processes alive, a typed answer read against what the chat was last
        offered by any of them."""
        if self.answers.peers.alone or msg.kind is not Kind.TEXT:
            return msg
        try:
            async with self.runtime.db.glance() as db:
                choices = await get_offered(db, chat_key=self._offer_key(msg.chat))
        except Exception as error:
            log.warning("offered choices not read: %s", type(error).__name__)
            return msg
        option = match_option(tuple(Option(label, data) for label, data in choices), msg.text)
        if option is None:
            return msg
        return replace(msg, kind=Kind.CHOICE, choice=option.data, text="")

    def answer_parts(self, answer: Answer) -> list[Part]:
        """An answer's replies as platform calls, one after the other."""
        chat = answer.chat
        return [part for reply in answer.replies for part in self.parts(chat, reply, offer=False)]

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task that stop() waits for."""
        task = asyncio.create_task(work)
        self._working.add(task)
        task.add_done_callback(self._working.discard)

    async def finish(self) -> None:
        """Wait (a little) for the messages being handled."""
        if self._working:
            await asyncio.wait(self._working, timeout=10)

    def parts(self, chat: str, reply: Reply, *, offer: bool = True) -> list[Part]:
        """The platform calls that send a reply (each platform says how)."""
        raise NotImplementedError


class ZaloChannel(TypedChats):
    """The bot on Zalo, fed by long polling or by a webhook."""

    name = CHANNEL

    def __init__(
        self, runtime: Runtime, token: str, api_root: str, *, answers: AnswerSender, polling: bool
    ):
        super().__init__(runtime, answers)
        self.api = ZaloBotAPI(token, api_root)
        self.polling = polling
        self._poller: asyncio.Task[None] | None = None
        self._inbox = Inbox(runtime, CHANNEL, self._inbox_key)
        # Polled updates in the order they came, across restarts (while the clock goes on).
        self._arrivals = itertools.count(time.time_ns() // 1000)

    async def start(self) -> None:
        """Check the token (getMe), deliver what was owed, and start polling when configured:
        the updates kept in the inbox first."""
        me = await self.api.call("getMe")
        await self.deliver_owed()
        if self.polling:
            for update in await self._inbox.recover():
                self.in_background(self.process(update, from_inbox=True))
            self._poller = asyncio.create_task(self._poll())
        log.info("zalo bot %s started", (me or {}).get("account_name", ""))

    async def stop(self) -> None:
        """Stop polling, let running updates finish, disconnect."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self.finish()
        await self.api.close()

    # --- receiving ---

    def to_incoming(self, update: JSONDict) -> Incoming | None:
        """Normalise a Zalo update; None for what cannot be one (no sender, chat or id)."""
        message = object_field(update.get("message"))
        user, chat, message_id = _who_and_which(message)
        if not user or not chat or not message_id:
            return None
        base = self.base(CHANNEL, user, chat, message_id)
        base["private"] = object_field(message.get("chat")).get("chat_type", "PRIVATE") == "PRIVATE"
        event = str(update.get("event_name", ""))
        pin = location_field(message.get("location"))
        if pin is not None:
            # Not in the published events; taken if Zalo ever sends a shared location.
            return Incoming(kind=Kind.LOCATION, location=pin, **base)
        if event == "message.text.received":
            return self.typed(base, chat, text_field(message.get("text")))
        if event == "message.image.received" and text_field(message.get("photo_url")):
            photo = Media(MediaKind.PHOTO, text_field(message["photo_url"]))
            caption = text_field(message.get("caption"))
            return Incoming(kind=Kind.MEDIA, media=(photo,), caption=caption, **base)
        what = "sticker" if event == "message.sticker.received" else "other"
        return Incoming(kind=Kind.UNSUPPORTED, unsupported=what, **base)

    async def process(self, payload: Any, *, from_inbox: bool = False) -> None:
        """Handle one update, bare or wrapped, in its chat's turn."""
        update = unwrap(payload)
        msg = self.to_incoming(update) if update is not None else None
        if msg is not None:
            await self.answer(msg, from_inbox=from_inbox)

    def _inbox_key(self, update: JSONDict) -> tuple[str, int] | None:
        user, chat, message_id = _who_and_which(object_field(update.get("message")))
        if not user or not chat or not message_id:
            return None  # not an update to handle: nothing to keep
        return self.dedupe_key(CHANNEL, chat, message_id), next(self._arrivals)

    async def _kept(self, update: JSONDict) -> bool:
        """Keep a polled update before it is handled: Zalo hands each out once, no offset."""
        try:
            await self._inbox.keep([update])
        except Exception as error:
            log.warning("zalo update not kept (%s): handled at once", type(error).__name__)
            return False
        return True

    async def _poll(self) -> None:
        pause = 1.0
        while True:
            try:
                result = await self.api.call("getUpdates", timeout=POLL_SECONDS)
            except ZaloError as error:
                if error.code == 408:  # the long poll ended with nothing new
                    continue
                log.warning("zalo getUpdates failed: %s", error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30)
                continue
            pause = 1.0
            update = unwrap(result)
            if update is not None:
                kept = await self._kept(update)
                self.in_background(self.process(update, from_inbox=kept))

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        """Take Zalo's webhook calls at `path`; a missing or wrong secret header gets 403."""
        add_secret_webhook(
            app,
            path,
            header=SECRET_HEADER,
            secret=secret,
            is_update=lambda payload: unwrap(payload) is not None,
            handle=self.process,
        )

    async def set_webhook(self, url: str, secret: str) -> None:
        """Tell Zalo where to call, with the secret it must send in its header."""
        await self.api.call("setWebhook", url=url, secret_token=secret)

    # --- sending ---

    def parts(self, chat: str, reply: Reply, *, offer: bool = True) -> list[Part]:
        """The calls that send a reply: its text with numbered options, split at 2,000
        characters, and its photos by URL (charts are left out: Zalo takes no uploads).
        """
        photos = [
            m.ref for m in reply.media if m.kind is MediaKind.PHOTO and m.ref.startswith("http")
        ]
        pieces = text_pieces(reply, shown_media=len(photos))
        parts = [self._call("sendMessage", chat_id=chat, text=piece) for piece in pieces]
        parts += [self._call("sendPhoto", chat_id=chat, photo=url) for url in photos]
        return self.offering(chat, reply.options, parts) if offer and reply.options else parts

    def _call(self, method: str, **params: Any) -> Part:
        async def call() -> None:
            try:
                await self.api.call(method, **params)
            except ZaloError as error:
                raise delivery_error(error) from None

        return call


def _who_and_which(message: JSONDict) -> tuple[str, str, str]:
    """A Zalo message's sender, chat and message id ("" where missing)."""
    sender = text_field(object_field(message.get("from")).get("id"))
    chat = text_field(object_field(message.get("chat")).get("id"))
    return sender, chat, text_field(message.get("message_id"))


def text_pieces(reply: Reply, *, shown_media: int = 0) -> list[str]:
    """A reply as Zalo texts: options numbered, a location request spelled out, a line for
    attachments and files Zalo cannot show, all split at 2,000 characters on line breaks."""
    lines = [numbered(reply, _both(lambda lang: text(lang, "zalo.choose")))]
    if reply.request_location:
        lines.append(_both(lambda lang: text(lang, "zalo.location")))
    hidden = len(reply.media) - shown_media
    if hidden > 0:
        lines.append(_both(lambda lang: text_n(lang, "zalo.media_elsewhere", hidden)))
    if reply.document is not None:
        lines.append(_both(lambda lang: text(lang, "zalo.no_files")))
    return split_text("\n".join(lines), MAX_TEXT)


def _both(line: Callable[[str], str]) -> str:
    """A line for someone whose language the channel does not know: Vietnamese, then English."""
    return f"{line('vi')} · {line('en')}"
