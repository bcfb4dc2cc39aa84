"""Passphrases hashed after the tip is filed, so that a burst of tips never waits for scrypt.

Hashing a passphrase (scrypt) costs about 50 ms of CPU by design: a hundred tips a second
would need five cores. So a new tip stores its passphrase sealed (AES-GCM under a key derived
from TIPLINE_SECRET_KEY, bound to the tip's code): the tipster gets the receipt at once and
can use it at once, and a copied database alone does not open it. A background pass then
replaces each sealed passphrase by its scrypt hash, on one low-priority thread, so during a
burst the hashing takes the CPU the answers leave over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from handlers.common.sealing import UNUSABLE_PASSPHRASE, Sealer, hash_passphrase
from storage.tips import SealedPassphrase

log = logging.getLogger("tipline.passphrases")

# Tips hashed per pass, between two short database transactions.
BATCH = 16
# Nice value of the hashing thread: answers first, hashes with what is left.
HASHING_NICENESS = 10


def _lower_priority() -> None:
    # Linux takes a thread id here; elsewhere the thread simply keeps the normal priority.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_HASHING = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="passphrase-hash", initializer=_lower_priority
)


def hashed(sealer: Sealer, pending: list[SealedPassphrase]) -> list[tuple[SealedPassphrase, str]]:
    """Each sealed passphrase with its slow hash (an unopenable one can never be used again)."""
    done = []
    for sealed in pending:
        passphrase = sealer.open_passphrase(sealed.stored, code=sealed.code)
        if passphrase is None:
            # Sealed under another TIPLINE_SECRET_KEY: nobody can prove they know it any more.
            log.warning("tip id=%d: sealed passphrase cannot be opened", sealed.tip_id)
            done.append((sealed, UNUSABLE_PASSPHRASE))
            continue
        done.append((sealed, hash_passphrase(passphrase)))
    return done


async def hash_sealed(
    sealer: Sealer, pending: list[SealedPassphrase]
) -> list[tuple[SealedPassphrase, str]]:
    """hashed(), on the low-priority hashing thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, hashed, sealer, pending)
