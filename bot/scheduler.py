"""Scheduled work inside the bot process (APScheduler 3, explicit time zone, no job store)."""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime import Runtime
from handlers.housekeeping import housekeeping

log = logging.getLogger("tipline.scheduler")

HOUSEKEEPING_MINUTES = 15


async def run_housekeeping(runtime: Runtime) -> dict[str, int]:
    """One housekeeping pass in its own transaction."""
    async with runtime.db.transaction() as db:
        removed = await housekeeping(db, runtime.context())
    log.info("housekeeping removed %s", removed)
    return removed


async def _scheduled_housekeeping(runtime: Runtime) -> None:
    try:
        await run_housekeeping(runtime)
    except asyncio.CancelledError:
        # Shutdown cancels a running job; its transaction rolled back and the next start redoes it.
        log.info("housekeeping interrupted by shutdown")


def start_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """Start the scheduler with its jobs; each run is idempotent, so no job store is needed."""
    scheduler = AsyncIOScheduler(timezone=runtime.timezone)
    scheduler.add_job(
        _scheduled_housekeeping,
        "interval",
        minutes=HOUSEKEEPING_MINUTES,
        args=[runtime],
        id="housekeeping",
        next_run_time=runtime.clock(),
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    return scheduler
