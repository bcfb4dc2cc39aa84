"""Passphrases minted ahead, so that filing a tip does not hash one while it holds the database.

Hashing a passphrase (scrypt) takes about 50 ms by design. Done while filing, it ran inside the
update's transaction, holding SQLite's one writer: a burst of tips queued behind it. A
background thread keeps a few (passphrase, hash) pairs ready; each is handed out once, and
if none is ready one is made on the spot, off the event loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from handlers.codes import new_passphrase, normalise_passphrase
from handlers.sealing import hash_passphrase

READY = 16


def mint_one() -> tuple[str, str]:
    """A new passphrase and its salted hash."""
    passphrase = new_passphrase()
    return passphrase, hash_passphrase(normalise_passphrase(passphrase))


class PassphraseMint:
    """A small stock of ready pairs, refilled by one background thread as pairs are taken."""

    def __init__(self, ready: int = READY) -> None:
        self.ready = ready
        self._stock: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._promised = 0  # pairs in stock or being made
        self._lock = threading.Lock()
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="passphrase-mint")

    async def take(self) -> tuple[str, str]:
        """A pair nobody else got: ready-made if there is one, else made now in a thread."""
        try:
            pair = self._stock.get_nowait()
        except queue.Empty:
            pair = await asyncio.to_thread(mint_one)
        else:
            with self._lock:
                self._promised -= 1
        self._top_up()
        return pair

    def in_stock(self) -> int:
        """How many pairs are ready right now."""
        return self._stock.qsize()

    def _top_up(self) -> None:
        with self._lock:
            missing = self.ready - self._promised
            self._promised += max(missing, 0)
        for _ in range(missing):
            self._maker.submit(self._make)

    def _make(self) -> None:
        self._stock.put(mint_one())


# One per process: pairs are random, used once, and never leave memory before they are used.
MINT = PassphraseMint()
