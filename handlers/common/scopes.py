"""Who sees what: an officer's scope, checked on the server behind every command and button."""

from __future__ import annotations

from handlers.common.texts import text
from handlers.common.types import Context
from storage.models import Officer, Tip
from storage.tips import Scope


def scope_of(officer: Officer) -> Scope:
    """The tips this officer may see."""
    return Scope(area=officer.area)


def may_see(officer: Officer | None, tip: Tip | None) -> bool:
    """Server-side check behind every officer command and button: active and in scope."""
    return (
        officer is not None
        and officer.revoked_at is None
        and tip is not None
        and scope_of(officer).admits(tip)
    )


def scope_name(ctx: Context, lang: str, area: str | None) -> str:
    """'whole district' or the area's name, in the reader's language."""
    if area is None:
        return text(lang, "scope.district")
    named = ctx.catalog.area(area)
    return named.name(lang) if named else area
