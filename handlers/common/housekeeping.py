"""What is deleted on schedule: stale drafts and offers, expired contacts, old idempotence and
rate data, passphrase tries that no longer count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.types import Context
from storage.conversations import clear_stale_drafts, delete_dormant_conversations
from storage.guards import prune_guards
from storage.offers import prune_offered
from storage.tips import delete_expired_contacts

# Telegram keeps an undelivered update for 24 h; a redelivery later than a week is impossible.
UPDATE_MEMORY = timedelta(days=7)
# A conversation row links a pseudonym to a time of activity: keep it no longer than useful.
DORMANT_AFTER = timedelta(days=30)


async def housekeeping(db: AsyncSession, ctx: Context) -> dict[str, int]:
    """Delete what has outlived its purpose; returns how many of each were removed."""
    now = ctx.now
    draft_ends = now - timedelta(hours=ctx.limits.draft_ttl_hours)
    drafts = await clear_stale_drafts(db, older_than=draft_ends)
    contacts = await delete_expired_contacts(db, now=now)
    dormant = await delete_dormant_conversations(db, older_than=now - DORMANT_AFTER)
    # Offered as long as a draft lives: a number typed later is asked about again.
    offers = await prune_offered(db, older_than=draft_ends)
    await prune_guards(
        db, updates_before=now - UPDATE_MEMORY, buckets_before=now - timedelta(hours=2), now=now
    )
    return {"drafts": drafts, "contacts": contacts, "conversations": dormant, "offers": offers}
