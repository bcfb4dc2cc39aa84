"""Scheduled work inside the bot process (APScheduler 3, explicit time zone, no job store)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from handlers.common.housekeeping import housekeeping
from handlers.digests.morning import prepare_digests, queue_digests
from handlers.patrols.admin import check_patrols
from handlers.tips.alerts import escalate_unacknowledged
from handlers.tips.passphrases import BATCH, hash_sealed
from storage.locks import hold
from storage.tips import replace_passphrases, sealed_passphrases

log = logging.getLogger("tipline.scheduler")

HOUSEKEEPING_MINUTES = 15
PASSPHRASE_POLL_SECONDS = 2.0


@asynccontextmanager
async def job_transaction(runtime: Runtime, job: str) -> AsyncIterator[AsyncSession]:
    """A job's transaction, begun once no other process runs the same job.

    Every process ticks every job: the one that comes second waits for the first's commit,
    then finds its work done (escalated tips are marked, missed patrols stored) and does none.
    """
    async with runtime.db.transaction() as db:
        await hold(db, f"tipline:job:{job}")
        yield db


async def run_housekeeping(runtime: Runtime) -> dict[str, int]:
    """One housekeeping pass in its own transaction."""
    async with job_transaction(runtime, "housekeeping") as db:
        removed = await housekeeping(db, runtime.context())
    log.info("housekeeping removed %s", removed)
    return removed


async def run_escalation(runtime: Runtime) -> int:
    """Escalate unacknowledged urgent tips a level up, in one transaction."""
    async with job_transaction(runtime, "escalation") as db:
        escalated = await escalate_unacknowledged(db, runtime.context())
    if escalated:
        runtime.outbox_ready.set()
        log.info("escalated %d urgent tips", escalated)
    return escalated


async def run_patrol_check(runtime: Runtime) -> dict[str, int]:
    """Raise missed patrols and close forgotten shifts, in one transaction."""
    async with job_transaction(runtime, "patrol-check") as db:
        result = await check_patrols(db, runtime.context())
    if result["missed"]:
        runtime.outbox_ready.set()
    if any(result.values()):
        log.info("patrol check %s", result)
    return result


async def run_digests(runtime: Runtime) -> int:
    """Queue every digest due now: built from a read-only snapshot, claimed in a short write."""
    async with runtime.db.reading() as db:
        dues = await prepare_digests(db, runtime.context())
    if not dues:
        return 0
    async with runtime.db.transaction() as db:
        queued = await queue_digests(db, runtime.context(), dues)
    if queued:
        runtime.outbox_ready.set()
    log.info("digests: %d due, %d queued", len(dues), queued)
    return queued


async def run_passphrase_hashing(runtime: Runtime) -> int:
    """Replace sealed passphrases by their slow hash until none is left; returns how many.

    Read, hash and write are three steps: no transaction stays open while scrypt runs.
    """
    done = 0
    while True:
        async with runtime.db.reading() as db:
            pending = await sealed_passphrases(db, limit=BATCH)
        if not pending:
            return done
        results = await hash_sealed(runtime.sealer, pending)
        async with runtime.db.transaction() as db:
            done += await replace_passphrases(db, results)


async def hash_passphrases_forever(runtime: Runtime) -> None:
    """Keep hashing the passphrases of new tips, looking again every few seconds."""
    while True:
        try:
            hashed = await run_passphrase_hashing(runtime)
        except Exception:
            log.exception("passphrase hashing failed; trying again later")
        else:
            if hashed:
                log.info("hashed %d passphrases", hashed)
        await asyncio.sleep(PASSPHRASE_POLL_SECONDS)


Job = Callable[[Runtime], Awaitable[object]]


def _interruptible(job: Job) -> Callable[[Runtime], Awaitable[None]]:
    async def run(runtime: Runtime) -> None:
        try:
            await job(runtime)
        except asyncio.CancelledError:
            # Shutdown cancels a running job; its transaction rolled back, the next run redoes it.
            log.info("%s interrupted by shutdown", job.__name__)

    return run


def start_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """Start the scheduler with its jobs; each run is idempotent, so no job store is needed."""
    scheduler = AsyncIOScheduler(timezone=runtime.timezone)
    jobs: list[tuple[Job, int]] = [
        (run_housekeeping, HOUSEKEEPING_MINUTES),
        (run_escalation, 1),
        (run_patrol_check, 1),
    ]
    for job, minutes in jobs:
        scheduler.add_job(
            _interruptible(job),
            "interval",
            minutes=minutes,
            args=[runtime],
            id=job.__name__,
            next_run_time=runtime.clock(),
            coalesce=True,
            max_instances=1,
        )
    # On the minute, so that a 07:00 digest leaves at 07:00:00; at start for the catch-up.
    scheduler.add_job(
        _interruptible(run_digests),
        "cron",
        second=0,
        args=[runtime],
        id="run_digests",
        next_run_time=runtime.clock(),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=50,
    )
    scheduler.start()
    return scheduler
