"""Choices without buttons: options become numbered lines, answered by number or by words."""

from __future__ import annotations

from collections import OrderedDict

from handlers.common.matching import match_option
from handlers.common.types import Option, Reply

REMEMBERED_CHATS = 10_000


def numbered(reply: Reply, hint: str) -> str:
    """The reply's text with its options as "1. Ma túy" lines and a line saying how to answer."""
    if not reply.options:
        return reply.text
    lines = [reply.text, ""]
    lines += [f"{n}. {option.label}" for n, option in enumerate(reply.options, 1)]
    return "\n".join([*lines, hint])


class OfferedOptions:
    """What each chat was last offered, so that "2" or "ma tuy" can be taken as that choice.

    Kept in memory for the most recent chats: after a restart a number is read as text, and
    the conversation asks its question again. With other processes alive the database keeps
    a copy for all of them (bot/channels/zalo.py).
    """

    def __init__(self) -> None:
        self._offered: OrderedDict[str, tuple[Option, ...]] = OrderedDict()

    def offer(self, chat: str, options: tuple[Option, ...]) -> None:
        """Remember the options just sent to a chat (none: it has nothing to choose now)."""
        self._offered.pop(chat, None)
        if options:
            self._offered[chat] = options
            if len(self._offered) > REMEMBERED_CHATS:
                self._offered.popitem(last=False)

    def pick(self, chat: str, text: str) -> Option | None:
        """The option a typed answer means among what the chat was last offered here."""
        return match_option(self._offered.get(chat, ()), text)
