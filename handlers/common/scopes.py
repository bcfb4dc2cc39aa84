"""Who sees what: an officer's scope, checked on the server behind every command and button."""

from __future__ import annotations

from handlers.common.catalog import Catalog, Unit
from handlers.common.texts import text
from handlers.common.types import Context
from storage.models import Officer, Tip
from storage.tips import Scope


def scope_of(ctx: Context, officer: Officer) -> Scope:
    """The tips this officer may see: those of every area under their unit."""
    return Scope(areas=ctx.catalog.under(officer.area))


def may_see(ctx: Context, officer: Officer | None, tip: Tip | None) -> bool:
    """Server-side check behind every officer command and button: active and in scope."""
    return (
        officer is not None
        and officer.revoked_at is None
        and tip is not None
        and scope_of(ctx, officer).admits(tip)
    )


def scope_name(ctx: Context, lang: str, area: str | None) -> str:
    """The name of the unit an officer or a group covers, in the reader's language."""
    unit = ctx.catalog.unit(area)
    return unit.name(lang) if unit else str(area)


def top_only_mark(ctx: Context, lang: str, tip: Tip) -> str:
    """' · only {the top unit's police}' on a tip its tipster kept from the lower units."""
    return text(lang, "alert.top_only", police=ctx.catalog.top_police(lang)) if tip.top_only else ""


def unit_codes(catalog: Catalog, units: list[Unit]) -> list[str]:
    """Every code officers of these units may be stored with (merged units' old codes too)."""
    return [code for unit in units if unit is not catalog.root for code in catalog.codes(unit)]
