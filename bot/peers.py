"""The processes sharing the database, as the senders need to know them (bot/processes.py)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Protocol


class Peers(Protocol):
    """The processes sharing the database, as far as sending needs to know."""

    @property
    def name(self) -> str:
        """This process's name, as its answers' rows record it."""

    @property
    def alive(self) -> frozenset[str]:
        """The processes alive, this one among them."""

    @property
    def alone(self) -> bool:
        """Whether no other process shares the database."""

    @property
    def leads(self) -> bool:
        """Whether this process sends the outbox."""

    def owner_of(self, chat_key: str) -> str:
        """The process that delivers the answers to a chat (by its keyed hash)."""


@dataclass(frozen=True, slots=True)
class Alone:
    """A process sharing its database with nobody: the console, a test, `tipline run`."""

    name: str = field(default_factory=socket.gethostname)

    @property
    def alone(self) -> bool:
        """Always."""
        return True

    @property
    def leads(self) -> bool:
        """Always."""
        return True

    @property
    def alive(self) -> frozenset[str]:
        """This process alone."""
        return frozenset({self.name})

    def owner_of(self, chat_key: str) -> str:
        """This process."""
        return self.name
