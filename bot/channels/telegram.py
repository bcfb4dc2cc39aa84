"""Telegram: python-telegram-bot underneath, Incoming/Reply on top; polling or webhook."""

from __future__ import annotations

import asyncio
import functools
import logging
import warnings
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import Bot, InputFile
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.answers import Answer, AnswerSender
from bot.channels.aiohttp_request import AiohttpRequest, JsonFields
from bot.channels.base import DeliveryError, Part, add_secret_webhook, split_text
from bot.channels.telegram_files import TelegramFiles
from bot.channels.telegram_polling import UpdatePoller, update_number
from bot.charts import chart_png
from bot.inbox import Inbox
from bot.lanes import ChatLanes
from bot.runtime import Runtime
from handlers.common.types import Chart, Incoming, Kind, Location, Media, MediaKind, Option, Reply

log = logging.getLogger("tipline.telegram")

# do_api_request is used on purpose where Telegram's answer is not read (_edit_text,
# _confirm): the library's nudge towards its own methods is not news.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

JSONDict = dict[str, Any]
Markup = dict[str, Any]  # a reply_markup as the Bot API reads it


def update_key(update: JSONDict) -> tuple[str, int] | None:
    """An update's dedupe key and its place in Telegram's order; None without a valid id."""
    number = update_number(update)
    return None if number is None else (f"{CHANNEL}:{number}", number)


# How long a stopping bot waits for its answers to go out (what is left goes at the next start).
STOP_SECONDS = 5.0


def to_incoming(update: JSONDict, runtime: Runtime, bot_username: str) -> Incoming | None:
    """Normalise a Telegram update, as the Bot API's JSON; None for what Tipline does not serve.

    Read straight from the JSON: turning every update into python-telegram-bot objects first
    took 15% of the bot's time under a burst, for the dozen fields read here. An update
    without a usable update_id raises ValueError.
    """
    found = update_key(update)
    if found is None:
        raise ValueError("update_id")
    key = found[0]
    query = update.get("callback_query")
    if query is not None:
        return _from_callback(key, query, runtime)
    edited = update.get("edited_message")
    if edited is not None:
        return _base(key, edited, runtime, kind=Kind.EDITED)
    message = update.get("message")
    if message is None or message.get("from") is None:
        return None
    forwarded = message.get("forward_origin") is not None
    if message.get("text") is not None:
        return _from_text(key, message, runtime, bot_username, forwarded)
    location = message.get("location")
    if location is not None:
        where = Location(float(location["latitude"]), float(location["longitude"]))
        return _base(key, message, runtime, kind=Kind.LOCATION, location=where)
    media = _media(message)
    if media is not None:
        return _base(
            key,
            message,
            runtime,
            kind=Kind.MEDIA,
            media=(media,),
            caption=str(message.get("caption") or ""),
            forwarded=forwarded,
        )
    what = "contact" if message.get("contact") is not None else "other"
    return _base(key, message, runtime, kind=Kind.UNSUPPORTED, unsupported=what)


def _from_text(
    key: str, message: JSONDict, runtime: Runtime, bot_username: str, forwarded: bool
) -> Incoming | None:
    text = str(message["text"])
    if not text.startswith("/") or forwarded:
        return _base(key, message, runtime, kind=Kind.TEXT, text=text, forwarded=forwarded)
    head, _, args = text[1:].partition(" ")
    command, _, addressee = head.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None  # a command for another bot in the same group
    return _base(
        key, message, runtime, kind=Kind.COMMAND, command=command.lower(), args=args.strip()
    )


# Where a message carries a file, in the order they are looked for: an animation comes with
# a "document" too, and counts as a video.
_FILES = (
    ("video", MediaKind.VIDEO),
    ("video_note", MediaKind.VIDEO),
    ("animation", MediaKind.VIDEO),
    ("voice", MediaKind.VOICE),
    ("audio", MediaKind.AUDIO),
    ("document", MediaKind.DOCUMENT),
)


def _media(message: JSONDict) -> Media | None:
    photo = message.get("photo")
    if photo:
        return Media(MediaKind.PHOTO, str(photo[-1]["file_id"]))  # the largest size is last
    found = next(((kind, message[field]) for field, kind in _FILES if message.get(field)), None)
    if found is None:
        return None
    kind, item = found
    mime = str((message.get("document") or {}).get("mime_type") or "")
    # Sent "as a file", so Telegram did not recompress it: its EXIF (GPS) travels with it.
    original = mime.startswith(("image/", "video/"))
    return Media(kind, str(item["file_id"]), original=original)


def _base(key: str, message: JSONDict, runtime: Runtime, **fields: Any) -> Incoming:
    user = message.get("from") or {}
    chat = message["chat"]
    return Incoming(
        channel=CHANNEL,
        sender=runtime.sealer.pseudonym(CHANNEL, str(user.get("id") or chat["id"])),
        chat=str(chat["id"]),
        dedupe_key=key,
        private=chat.get("type") == ChatType.PRIVATE,
        language_hint=str(user.get("language_code") or ""),
        **fields,
    )


def _from_callback(key: str, query: JSONDict, runtime: Runtime) -> Incoming:
    user = query["from"]
    chat = (query.get("message") or {}).get("chat")
    return Incoming(
        channel=CHANNEL,
        sender=runtime.sealer.pseudonym(CHANNEL, str(user["id"])),
        chat=str(chat["id"] if chat else user["id"]),
        dedupe_key=key,
        private=chat is None or chat.get("type") == ChatType.PRIVATE,
        kind=Kind.CHOICE,
        choice=str(query.get("data") or ""),
        language_hint=str(user.get("language_code") or ""),
    )


def markup(reply: Reply) -> Markup:
    """Buttons as Telegram shows them: inline buttons, or a keyboard that can share a location.

    Written as the Bot API's JSON rather than python-telegram-bot's objects: turning those
    back into JSON for every reply took 7% of the bot's time under a burst.
    """
    if reply.request_location:
        rows = [[{"text": reply.request_location, "request_location": True}]]
        rows += [[{"text": option.label}] for option in reply.options]
        return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
    if not reply.options:
        return {"remove_keyboard": True}
    return {"inline_keyboard": _rows(reply.options, reply.columns)}


def _rows(options: tuple[Option, ...], columns: int) -> list[list[dict[str, str]]]:
    buttons = [{"text": o.label, "callback_data": o.data} for o in options]
    return [buttons[i : i + max(columns, 1)] for i in range(0, len(buttons), max(columns, 1))]


def reply_parts(bot: Bot, chat_id: str | int, reply: Reply) -> list[Part]:
    """The API calls that send a reply: the chart picture first, then the text split at
    Telegram's length limit with the buttons on the last piece, then attachments re-sent by
    file id (never forwarded, so no "forwarded from" line), then a document, if any.
    """
    parts: list[Part] = []
    if reply.chart is not None:
        parts.append(functools.partial(_send_chart, bot, chat_id, reply.chart))
    pieces = split_text(reply.text, MessageLimit.MAX_TEXT_LENGTH)
    for number, piece in enumerate(pieces, 1):
        buttons = markup(reply) if number == len(pieces) else None
        parts.append(functools.partial(_send_text, bot, chat_id, piece, buttons))
    parts += [functools.partial(_resend, bot, chat_id, media) for media in reply.media]
    if reply.document is not None:
        upload = InputFile(reply.document.content, filename=reply.document.name)
        parts.append(functools.partial(bot.send_document, chat_id, upload))
    return parts


async def _send_text(bot: Bot, chat_id: str | int, text: str, buttons: Markup | None) -> None:
    # Every update sends one of these: straight to the request object, as one JSON body, and
    # Telegram's answer is not turned into a Message that nobody reads. The Bot's own method,
    # its per-call warning and its form encoding cost half as much again (bench/README.md).
    fields: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if buttons is not None:
        fields["reply_markup"] = buttons
    await bot.request.post(f"{bot.base_url}/sendMessage", request_data=JsonFields(fields))


def _address(message: JSONDict) -> JSONDict:
    """Which message an edit is for, as the Bot API's edit methods take it."""
    return {"chat_id": message["chat"]["id"], "message_id": message["message_id"]}


async def _edit_text(bot: Bot, button: JSONDict, text: str, buttons: Markup) -> None:
    fields = {**button["address"], "text": text, "reply_markup": buttons}
    await bot.do_api_request("editMessageText", api_kwargs=fields)


async def send_reply(bot: Bot, chat_id: str | int, reply: Reply) -> None:
    """Send a reply to the chat that wrote, part after part."""
    for part in reply_parts(bot, chat_id, reply):
        await part()


async def _send_chart(bot: Bot, chat_id: str | int, chart: Chart) -> None:
    picture = InputFile(await chart_png(chart), filename="tipline-chart.png")
    caption = chart.title[: MessageLimit.CAPTION_LENGTH]
    await bot.send_photo(chat_id, picture, caption=caption)


async def _resend(bot: Bot, chat_id: str | int, media: Media) -> None:
    if media.kind is MediaKind.PHOTO:
        await bot.send_photo(chat_id, media.ref)
    elif media.kind is MediaKind.VIDEO:
        await bot.send_video(chat_id, media.ref)
    elif media.kind is MediaKind.VOICE:
        await bot.send_voice(chat_id, media.ref)
    elif media.kind is MediaKind.AUDIO:
        await bot.send_audio(chat_id, media.ref)
    else:
        await bot.send_document(chat_id, media.ref)


def _checked(part: Part) -> Part:
    """A platform call whose refusals become DeliveryError."""

    async def call() -> None:
        try:
            await part()
        except TelegramError as error:
            raise delivery_error(error) from None

    return call


def _pressed(query: JSONDict) -> JSONDict | None:
    """The message whose button was pressed, as its answer needs it: None when it cannot be
    edited (too old for the bot to see: Telegram sends date 0)."""
    message = query.get("message")
    if not isinstance(message, dict) or not message.get("date"):
        return None
    return {"address": _address(message), "keyboard": message.get("reply_markup") is not None}


def delivery_error(error: TelegramError) -> DeliveryError:
    """A platform error as the outbox understands it: retry when, or never."""
    if isinstance(error, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return DeliveryError("rate limited", retry_after=seconds)
    if isinstance(error, Forbidden):
        return DeliveryError("blocked by the user", permanent=True)
    if isinstance(error, BadRequest):  # a NetworkError to python-telegram-bot, but no outage
        gone = "chat not found" in error.message.lower()
        return DeliveryError("chat not found" if gone else "BadRequest", permanent=gone)
    # Timeouts, 5xx answers and dropped connections: the network, not the message.
    return DeliveryError(type(error).__name__, transient=isinstance(error, NetworkError))


class TelegramChannel:
    """The bot on Telegram, fed by long polling or by a webhook."""

    name = CHANNEL

    def __init__(
        self, runtime: Runtime, token: str, api_root: str, *, answers: AnswerSender, polling: bool
    ):
        self.runtime = runtime
        self.answers = answers
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api_root}/bot")
            .base_file_url(f"{api_root}/file/bot")
            .concurrent_updates(ChatLanes())
            .request(AiohttpRequest())
            .get_updates_request(AiohttpRequest(connections=1))
            .updater(None)  # polling is UpdatePoller's, on a thread of its own
        )
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self._poller = UpdatePoller(token, api_root, ALLOWED_UPDATES) if polling else None
        # The tips' attachments, fetched for the desk (a FileSource).
        self.files = TelegramFiles(token, api_root)
        self._inbox = Inbox(runtime, CHANNEL, update_key)
        self._handled = 0  # polled updates done with, for the poller's backlog count
        # Updates travel as the Bot API's JSON (see to_incoming).
        self.application.add_handler(TypeHandler(dict, self._on_update))
        self.application.add_error_handler(self._on_error)

    @property
    def bot(self) -> Bot:
        """The python-telegram-bot Bot doing the API calls."""
        bot: Bot = self.application.bot
        return bot

    async def start(self) -> None:
        """Connect (getMe), deliver what was owed before a restart, then start processing:
        the updates kept in the inbox first, then polling, when configured."""
        await self.application.initialize()
        self.runtime.bot_username = self.bot.username or ""
        self.answers.serve(self)
        await self.answers.recover(CHANNEL)
        await self.application.start()
        if self._poller is not None:
            kept = await self._inbox.recover()
            # Those are handled without having been handed over by the poller.
            self._handled = -len(kept)
            self._enqueue(kept)
            await self.bot.delete_webhook()  # Telegram refuses getUpdates while one is set
            self._poller.start(self._take_batch, lambda: self._handled)
        log.info("telegram bot @%s started", self.runtime.bot_username)

    async def stop(self) -> None:
        """Stop polling, finish running updates, give their answers a moment to go out, and
        disconnect (safe if start() failed); whatever is left waits in the database."""
        if self._poller is not None:
            await self._poller.stop()
        if self.application.running:
            await self.application.stop()
        await self.answers.drain(STOP_SECONDS)
        if self._poller is not None and self._poller.offset:
            await self._confirm(self._poller.offset)
        await self.application.shutdown()
        # Refused at getMe, the application never counted as initialised and shuts nothing
        # down, yet the bot's HTTP sessions were opened before that call: closed here.
        await self.bot.shutdown()
        await self.files.close()

    async def _take_batch(self, batch: list[JSONDict]) -> None:
        """Keep a polled batch in the inbox, then queue it; Telegram hears of it only after."""
        await self._inbox.keep(batch)
        self._enqueue(batch)

    def _enqueue(self, batch: list[JSONDict]) -> None:
        """Queue a batch of updates for processing, in the order Telegram sent them."""
        for update in batch:
            self.application.update_queue.put_nowait(update)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram every update handed over was handled, so a restart does not refetch it."""
        try:
            fields = {"offset": offset, "limit": 1, "timeout": 0}
            await self.bot.do_api_request("getUpdates", api_kwargs=fields)
        except TelegramError as error:
            log.warning("last updates not confirmed (%s): they come again", type(error).__name__)

    def parts(self, chat: str, reply: Reply) -> list[Part]:
        """A message as API calls whose refusals become DeliveryError."""
        return [_checked(part) for part in reply_parts(self.bot, chat, reply)]

    def answer_parts(self, answer: Answer) -> list[Part]:
        """An answer as API calls: the pressed button's message settled first (redrawn for a
        page turn, or its keyboard retired), then the replies."""
        replies = list(answer.replies)
        parts: list[Part] = []
        button = answer.button
        if button is not None and replies and replies[0].in_place:
            parts.append(_checked(functools.partial(self._redraw, answer.chat, button, replies[0])))
            replies = replies[1:]
        elif button is not None and button.get("keyboard"):
            parts.append(_checked(functools.partial(self._retire_keyboard, button)))
        for reply in replies:
            parts += self.parts(answer.chat, reply)
        return parts

    async def _redraw(self, chat: str, button: JSONDict, reply: Reply) -> None:
        """Edit the pressed button's message in place; sent anew if Telegram refuses the edit
        (too old, or unchanged)."""
        try:
            await _edit_text(self.bot, button, reply.text, markup(reply))
        except BadRequest as error:
            log.info("button message not redrawn: %s", type(error).__name__)
            await send_reply(self.bot, chat, reply)

    async def _retire_keyboard(self, button: JSONDict) -> None:
        try:
            await self.bot.do_api_request("editMessageReplyMarkup", api_kwargs=button["address"])
        except BadRequest as error:  # an old message, or already retired: nothing to do
            log.info("button keyboard not retired: %s", type(error).__name__)

    async def _on_update(self, update: JSONDict, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._answer(update, from_inbox=self._poller is not None)
        finally:
            self._handled += 1

    async def _answer(self, update: JSONDict, *, from_inbox: bool) -> None:
        """Handle an update; its answer is stored in its transaction and delivered after.

        `from_inbox`: the update was polled and waits in the inbox, which its transaction
        empties.
        """
        msg = self._read(update)
        if msg is None:
            if from_inbox:
                await self._inbox.forget(update)
            return
        query = update.get("callback_query")
        button = _pressed(query) if query is not None else None
        handled = await self.runtime.handle_durably(msg, button=button, from_inbox=from_inbox)
        if query is not None:
            await self._stop_spinner(query)
        self.answers.deliver(CHANNEL, handled)

    async def _stop_spinner(self, query: JSONDict) -> None:
        """Tell Telegram the button press was taken; too late after a restart, so not kept."""
        try:
            await self.bot.answer_callback_query(str(query["id"]))
        except TelegramError as error:
            log.info("button press not acknowledged: %s", type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never log the update itself: it holds the sender's id, name and phone, if shared.
        update_id = update.get("update_id") if isinstance(update, dict) else None
        log.error("telegram update=%s failed: %s", update_id, type(context.error).__name__)

    async def process_webhook(self, update: JSONDict) -> None:
        """Process one webhook update in its chat's lane and return once it is committed.

        Telegram sends a chat's next message only once this one is answered 2xx, so with
        several processes behind a load balancer a chat's messages still come one at a time.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def tracked() -> None:
            try:
                await self.application.process_update(update)
            finally:
                if not done.done():
                    done.set_result(None)

        await self.application.update_processor.process_update(update, tracked())
        await done

    def _read(self, update: JSONDict) -> Incoming | None:
        """The update as an Incoming; None for one not served, or unreadable."""
        try:
            return to_incoming(update, self.runtime, self.runtime.bot_username)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # A field missing or of the wrong type: nothing to answer, and nothing to log of it.
            number = update_number(update)
            log.warning("update=%s unreadable: %s", number, type(error).__name__)
            return None

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        """Take Telegram's webhook calls at `path`; a wrong secret header gets 403."""
        add_secret_webhook(
            app,
            path,
            header=WEBHOOK_SECRET_HEADER,
            secret=secret,
            is_update=lambda payload: update_number(payload) is not None,
            handle=self.process_webhook,
        )

    async def set_webhook(self, url: str, secret: str, max_connections: int = 40) -> None:
        """Tell Telegram where to call, with the secret it must send back, and how many of its
        calls may be in flight at once."""
        await self.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=max_connections,
        )
