"""The unit of work: one update, one transaction, replies only after the commit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers import Answer, answer_chat_key, seal_answer
from bot.peers import Alone, Peers
from bot.settings import SettingsError
from handlers.common.catalog import Catalog
from handlers.common.sealing import Sealer
from handlers.common.texts import text
from handlers.common.types import Context, Incoming, Limits, PassphraseCheck, Reply
from handlers.dispatch import dispatch
from handlers.tips.lookups import checked, passphrase_to_check, typed_passphrase
from storage.answers import AnswerRow, Kept, NewAnswer, take_answers
from storage.batches import Batched
from storage.conversations import ConversationState
from storage.db import Database
from storage.group_commit import GroupCommit
from storage.inbox import remove_handled, remove_inbox
from storage.keys import same_key
from storage.migrate import upgrade
from storage.outbox import queued_in
from storage.updates import UpdateStart, end_update, end_update_answering, start_update

log = logging.getLogger("tipline.updates")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a channel needs to turn an Incoming into replies, built once in main()."""

    db: Database
    sealer: Sealer
    catalog: Catalog
    timezone: ZoneInfo
    limits: Limits = field(default_factory=Limits)
    clock: Clock = utc_now
    bot_username: str = ""
    desk_url: str = ""  # the web desk's public address, once a server serves it
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # The processes sharing the database (bot/processes.py's Presence): which one delivers
    # a chat's answers. Alone, this one.
    peers: Peers = field(default_factory=Alone)
    commits: GroupCommit = field(init=False)
    handled_inbox: Batched[str] = field(init=False)

    def __post_init__(self) -> None:
        self.commits = GroupCommit(self.db)
        self.handled_inbox = Batched(lambda: self.commits, remove_handled)

    async def prepare(self) -> None:
        """Migrate the database, then stop with one line if it was made with another secret key:
        whatever this process sealed or opened with the wrong one would be lost."""
        await upgrade(self.db)
        digest = self.sealer.digest("key-check", "tipline")
        async with self.db.transaction() as db:
            same = await same_key(db, digest=digest, now=self.clock())
        if not same:
            raise SettingsError(
                "tipline: this database was made with another secret key: start with the key it"
                " was made with (TIPLINE_SECRET_KEY, or tipline.secret beside the database)"
            )

    def context(self, passphrase_check: PassphraseCheck | None = None) -> Context:
        """A handler context stamped with the current time."""
        return Context(
            now=self.clock(),
            timezone=self.timezone,
            catalog=self.catalog,
            sealer=self.sealer,
            limits=self.limits,
            bot_username=self.bot_username,
            passphrase_check=passphrase_check,
            desk_url=self.desk_url,
        )

    async def _check_passphrase_ahead(self, msg: Incoming) -> PassphraseCheck | None:
        """If the message may be a passphrase being asked for, check it before the transaction."""
        typed = typed_passphrase(msg)
        if typed is None:
            return None  # most messages: no query, no thread
        try:
            async with self.db.reading() as db:
                check = await passphrase_to_check(db, msg, typed, self.context())
            if check is None:
                return None
            return await asyncio.to_thread(checked, self.sealer, check)
        except Exception:
            # Only a head start: the handler checks again inside the transaction.
            log.exception("update=%s passphrase check ahead failed", msg.dedupe_key)
            return None

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Process one update exactly once; returns what to send back to its chat."""
        return (await self._handle(msg, None)).replies

    async def handle_durably(
        self, msg: Incoming, *, button: dict[str, Any] | None = None, from_inbox: bool = False
    ) -> Handled:
        """Process one update exactly once, keeping its answer stored until delivered.

        `button` is the message whose button was pressed; `from_inbox`, that the update was
        kept in the inbox, which its transaction then empties.
        """
        return await self._handle(msg, _Keep(button, from_inbox))

    async def _handle(self, msg: Incoming, keep: _Keep | None) -> Handled:
        started = time.perf_counter()
        ahead = await self._check_passphrase_ahead(msg)
        # Another process may be handling this sender's previous message: the group waits
        # for its commit, so that this one reads the conversation as that one left it.
        holding = f"tipline:sender:{msg.sender}"

        async def work(session: AsyncSession) -> Handled | None:
            ctx = self.context(ahead)
            started = await start_update(session, _start_of(msg, ctx.now))
            if started is None:
                return None
            replies = await dispatch(msg, session, ctx, started)
            conversation = started.conversation
            return await self._kept(session, msg, replies, keep, ctx.now, conversation=conversation)

        try:
            done = await self.commits.run(work, holding=holding)
        except Exception:
            # Logged without the update's content: it may hold what identifies the sender.
            log.exception("update=%s kind=%s failed", msg.dedupe_key, msg.kind.value)
            return await self._failed(msg, keep)
        if keep is not None and keep.from_inbox:
            # Deleted after, many to a write: a replay of an update handled but still kept
            # (a crash in between) is refused by its claim.
            self.handled_inbox.later(msg.dedupe_key)
        if done is None:
            log.info("duplicate update=%s skipped", msg.dedupe_key)
            return Handled([])
        if done.queued:
            # Woken only for new messages: a wake costs the sender a write transaction.
            self.outbox_ready.set()
        log.info(
            "update=%s kind=%s sender=%s replies=%d ms=%.1f",
            msg.dedupe_key,
            msg.kind.value,
            msg.sender[:8],
            len(done.replies),
            (time.perf_counter() - started) * 1000,
        )
        return done

    async def _kept(
        self,
        session: AsyncSession,
        msg: Incoming,
        replies: list[Reply],
        keep: _Keep | None,
        now: datetime,
        *,
        conversation: ConversationState | None = None,
    ) -> Handled:
        """The update's result, its answer stored in the same transaction when it is kept."""
        queued = queued_in(session)
        if keep is None or not (replies or keep.button):
            await end_update(session, conversation)
            return Handled(replies, queued=queued)
        answer = Answer(msg.chat, tuple(replies), keep.button)
        box = seal_answer(self.sealer, msg.dedupe_key, answer)
        chat_key = answer_chat_key(self.sealer, msg.channel, msg.chat)
        me = self.peers.name
        owner = me if self.peers.alone else self.peers.owner_of(chat_key)
        earlier: list[Kept] = []
        if not self.peers.alone and owner == me:
            # Answers other processes committed for this chat before (its sender's lock is
            # held: none can be missed) go out first, taken here rather than at the next look.
            earlier = await take_answers(
                session, channel=msg.channel, owner=owner, new_only=True, chat_key=chat_key
            )
        row = AnswerRow(msg.channel, chat_key, owner, queued=owner == me)
        new = NewAnswer(msg.dedupe_key, row, box, now)
        answer_id = await end_update_answering(session, conversation, new)
        return Handled(replies, answer, answer_id, queued, owner, earlier)

    async def _failed(self, msg: Incoming, keep: _Keep | None) -> Handled:
        """An update that could not be handled gets an apology, kept like any answer."""
        apology = [Reply(text("vi", "error") + "\n" + text("en", "error"))]
        if keep is None:
            return Handled(apology)

        async def work(session: AsyncSession) -> Handled:
            if keep.from_inbox:
                # Handled, badly: tried again at every start it would fail again.
                await remove_inbox(session, key=msg.dedupe_key)
            return await self._kept(session, msg, apology, _Keep(None, False), self.clock())

        try:
            return await self.commits.run(work)
        except Exception:
            log.exception("update=%s apology not stored", msg.dedupe_key)
            return Handled([])


def _start_of(msg: Incoming, now: datetime) -> UpdateStart:
    return UpdateStart(msg.dedupe_key, msg.channel, msg.sender, msg.chat, msg.private, now)


@dataclass(frozen=True, slots=True)
class _Keep:
    button: dict[str, Any] | None
    from_inbox: bool


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling an update gave: its replies, and the stored answer that delivers them."""

    replies: list[Reply]
    answer: Answer | None = None
    answer_id: int | None = None
    queued: bool = False  # it queued outbox messages for others
    owner: str | None = None  # the process that delivers the answer
    earlier: list[Kept] = field(default_factory=list)  # its chat's, committed by others
