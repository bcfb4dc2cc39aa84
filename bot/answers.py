"""Durable answers: what an update committed to say to its own chat reaches it, whatever happens.

An update's replies are sealed into a row in the update's own transaction
(`Runtime.handle_durably`) and handed here after the commit. Each chat's answers go out in the
order they were committed, paced with the highest priority by the platform's one Pacer. A 429
waits as told and sends the same call again; a timeout, a 5xx or a dropped connection is tried
again after 1, 2, 5, 10, then every 30 s, for as long as it takes. The row is deleted once every
part went out, or once the platform refused for good (the resident blocked the bot). Answers a
crash left behind are delivered at the next start, before anything newer for their chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import DeliveryError, Part
from bot.pacing import Pacer, Priority
from bot.peers import Alone, Peers
from handlers.common.sealing import Sealer
from handlers.common.types import Reply
from storage.answers import (
    Kept,
    orphaned_answers,
    reassign_answer,
    remove_answers,
    set_answer_progress,
    take_answers,
)
from storage.batches import Batched
from storage.db import Database
from storage.group_commit import GroupCommit

if TYPE_CHECKING:
    from bot.runtime import Handled

log = logging.getLogger("tipline.answers")

RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
# A refusal that is neither "too many" nor the network (a 400) will not heal by waiting long.
GIVE_UP_AFTER = 5
# How often a process looks for the answers other processes committed for its chats.
COLLECT_SECONDS = 0.05

ChatKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    """An update's replies to its chat, and the message whose button was pressed (Telegram)."""

    chat: str = field(repr=False)
    replies: tuple[Reply, ...]
    button: dict[str, Any] | None = None
    sent_parts: int = 0  # parts that went out before a crash or a refusal

    def to_json(self) -> dict[str, Any]:
        """Serialise for the sealed row."""
        replies = [reply.to_json() for reply in self.replies]
        return {"chat": self.chat, "replies": replies, "button": self.button}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, sent_parts: int = 0) -> Answer:
        """Rebuild an answer kept in its sealed row."""
        replies = tuple(Reply.from_json(reply) for reply in data["replies"])
        return cls(str(data["chat"]), replies, data.get("button"), sent_parts)


def seal_answer(sealer: Sealer, key: str, answer: Answer) -> bytes:
    """The answer as stored: sealed whole, for a receipt's passphrase is in it."""
    return sealer.seal(json.dumps(answer.to_json()), bound_to=f"answer:{key}")


def open_answer(sealer: Sealer, key: str, box: bytes, sent_parts: int) -> Answer | None:
    """A stored answer, or None if it cannot be opened (the secret key changed)."""
    plain = sealer.open(box, bound_to=f"answer:{key}")
    return None if plain is None else Answer.from_json(json.loads(plain), sent_parts=sent_parts)


def answer_chat_key(sealer: Sealer, channel: str, chat: str) -> str:
    """The chat an answer is for, as a keyed hash: processes order its answers by it."""
    return sealer.digest("answer-chat", f"{channel}:{chat}")[:32]


class AnswerChannel(Protocol):
    """A chat platform that can say how an answer is delivered."""

    name: str

    def answer_parts(self, answer: Answer) -> list[Part]:
        """The platform calls that deliver an answer, in order; each raises DeliveryError."""


@dataclass(frozen=True, slots=True)
class _Owed:
    answer_id: int
    answer: Answer


class AnswerSender:
    """Delivers stored answers, each chat's in order, until the platform takes them."""

    def __init__(
        self,
        db: Database,
        commits: GroupCommit,
        sealer: Sealer,
        pacers: Mapping[str, Pacer],
        peers: Peers | None = None,
    ) -> None:
        self.db = db
        self.peers: Peers = peers or Alone()
        # Delivered answers are deleted many to a transaction (on SQLite with the updates').
        self._delivered = Batched(lambda: commits, remove_answers)
        self.commits = commits
        self.sealer = sealer
        self.pacers = pacers
        self._channels: dict[str, AnswerChannel] = {}
        self._queues: dict[ChatKey, deque[_Owed]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._known: set[int] = set()  # answers queued or being delivered, until forgotten

    def serve(self, channel: AnswerChannel) -> None:
        """Deliver this channel's answers from now on."""
        self._channels[channel.name] = channel

    def send(self, channel: str, answer_id: int, answer: Answer) -> None:
        """Queue a committed answer behind its chat's earlier ones (once: one taken again
        after a transaction that took it failed to commit is already on its way)."""
        if answer_id in self._known:
            return
        self._known.add(answer_id)
        key = (channel, answer.chat)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(_Owed(answer_id, answer))
            return
        self._queues[key] = deque([_Owed(answer_id, answer)])
        self._idle.clear()
        task = asyncio.create_task(self._serve_chat(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self, channel: str) -> int:
        """Queue what this process still owed on a channel when it last stopped, and hand on
        what processes no longer alive left; returns how many it queued."""
        owed = await self._take(channel, new_only=False)
        if owed:
            log.info("%d %s answers owed from before the restart", owed, channel)
        await self.adopt_orphans(channel)
        return owed

    async def collect_forever(self) -> None:
        """While other processes share the database, take up every COLLECT_SECONDS the answers
        they committed for the chats this process delivers to."""
        while True:
            await asyncio.sleep(COLLECT_SECONDS)
            if self.peers.alone:
                continue
            for channel in list(self._channels):
                try:
                    await self._take(channel, new_only=True)
                except Exception:
                    log.exception("%s answers not collected; trying again", channel)

    async def adopt_orphans(self, channel: str) -> int:
        """Hand the answers of processes no longer alive to the processes that now deliver to
        their chats (this one among them); returns how many."""
        alive = set(self.peers.alive) | {self.peers.name}
        async with self.db.reading() as db:
            orphans = await orphaned_answers(db, channel=channel, alive=alive)
        moved = 0
        for answer_id, was, chat_key in orphans:
            owner = self.peers.owner_of(chat_key or "")

            async def work(
                db: AsyncSession,
                answer_id: int = answer_id,
                was: str | None = was,
                owner: str = owner,
            ) -> bool:
                return await reassign_answer(db, answer_id, was=was, owner=owner)

            moved += await self.commits.run(work)
        if moved:
            log.info("%d %s answers taken over from processes gone", moved, channel)
            await self._take(channel, new_only=True)
        return moved

    def deliver(self, channel: str, handled: Handled) -> None:
        """Queue the answer an update committed, if this process delivers to its chat (else
        the one that does takes it up at its next look)."""
        if handled.answer is None or handled.answer_id is None:
            return
        if handled.owner in (None, self.peers.name):
            self._send_kept(channel, handled.earlier)
            self.send(channel, handled.answer_id, handled.answer)

    async def drain(self, seconds: float) -> bool:
        """Wait (up to `seconds`) until every queued answer went out."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop sending; what was not delivered stays stored for the next start."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _take(self, channel: str, *, new_only: bool) -> int:
        async def work(db: AsyncSession) -> list[Kept]:
            owner = self.peers.name
            rows = await take_answers(db, channel=channel, owner=owner, new_only=new_only)
            # Queued before the commit: an answer this process commits for the same chat
            # meanwhile waits for these rows' locks, and so goes behind them.
            self._send_kept(channel, rows)
            return rows

        return len(await self.commits.run(work))

    def _send_kept(self, channel: str, rows: list[Kept]) -> None:
        """Queue stored answers, in their order; one that cannot be opened is dropped."""
        for answer_id, key, box, sent_parts in rows:
            answer = open_answer(self.sealer, key, box, sent_parts)
            if answer is None:
                log.warning("answer=%d cannot be opened (secret key changed): dropped", answer_id)
                self._delivered.later(answer_id)
                continue
            self.send(channel, answer_id, answer)

    async def _serve_chat(self, key: ChatKey) -> None:
        queue = self._queues[key]
        try:
            while queue:
                owed = queue[0]
                try:
                    await self._deliver(key[0], owed)
                except Exception:
                    # A bug, not the platform: the row stays and is tried again at the next start.
                    log.exception("answer=%d to a %s chat failed", owed.answer_id, key[0])
                queue.popleft()
        finally:
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def _deliver(self, channel: str, owed: _Owed) -> None:
        parts = self._channels[channel].answer_parts(owed.answer)
        pacer = self.pacers[channel]
        sent, failures, remembered = owed.answer.sent_parts, 0, False
        while sent < len(parts):
            try:
                # The platform's pacer knows the chat by its id, as the outbox's sends do.
                async with pacer.slot(owed.answer.chat, Priority.ANSWER):
                    await parts[sent]()
            except DeliveryError as error:
                if error.permanent:
                    log.warning("answer=%d dropped: %s", owed.answer_id, error)
                    break
                if sent > owed.answer.sent_parts and not remembered:
                    remembered = await self._remember(owed.answer_id, sent)
                if error.retry_after is not None:
                    pacer.hold(error.retry_after)  # the same call goes again once allowed
                    continue
                failures += 1
                if not error.transient and failures >= GIVE_UP_AFTER:
                    log.warning(
                        "answer=%d dropped after %d refusals: %s", owed.answer_id, failures, error
                    )
                    break
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
                log.info("answer=%d not sent (%s); again in %.0f s", owed.answer_id, error, pause)
                await asyncio.sleep(pause)
                continue
            sent += 1
        await self._forget(owed.answer_id)

    async def _remember(self, answer_id: int, sent: int) -> bool:
        async def work(db: AsyncSession) -> None:
            await set_answer_progress(db, answer_id, sent_parts=sent)

        try:
            await self.commits.run(work)
        except Exception:
            log.exception("answer=%d progress not stored", answer_id)
            return False
        return True

    async def _forget(self, answer_id: int) -> None:
        try:
            await self._delivered.add(answer_id)
            self._known.discard(answer_id)
        except Exception:
            # Sent, but still stored: it goes out once more at the next start.
            log.exception("answer=%d sent but not forgotten", answer_id)
