"""What the desk's list is narrowed to, read from its address: status, category, unit, days,
urgent, mine, unread answers, duplicates hidden, and words. Whatever is not understood is
left out (the list as if it were not there), never an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from handlers.common.texts import N_
from handlers.common.types import Context
from handlers.triage.queue import overdue_before
from storage.finding import TipFilter
from storage.models import Officer, TipStatus
from storage.tips import OPEN_STATUSES

# The statuses the list shows, by the word in its address; "open" when none is given.
STATUSES: dict[str, frozenset[TipStatus]] = {
    "open": frozenset(OPEN_STATUSES),
    "overdue": frozenset(OPEN_STATUSES),
    "received": frozenset({TipStatus.RECEIVED}),
    "verifying": frozenset({TipStatus.VERIFYING}),
    "handled": frozenset({TipStatus.HANDLED}),
    "closed": frozenset(s for s in TipStatus if s.value.startswith("closed")),
    "all": frozenset(),
}
STATUS_LABELS = {
    "open": N_("desk.filter.open"),
    "overdue": N_("desk.filter.overdue"),
    "received": N_("status.received"),
    "verifying": N_("status.verifying"),
    "handled": N_("status.handled"),
    "closed": N_("desk.filter.closed"),
    "all": N_("desk.filter.all"),
}
DAYS = (1, 7, 30, 90, 365)
WORDS_CHARS = 200


@dataclass(frozen=True, slots=True)
class Listing:
    """The list's filters as the address holds them."""

    status: str = "open"
    category: str = ""
    unit: str = ""
    days: int = 0  # filed in the last N days; 0: any time
    urgent: bool = False
    mine: bool = False
    unread: bool = False
    nodup: bool = False
    q: str = ""
    page: int = 1

    @classmethod
    def read(cls, query: Mapping[str, str], ctx: Context, officer: Officer) -> Listing:
        """The filters an address asks for, each one kept only if it makes sense here."""
        status = query.get("status", "open")
        category = query.get("category", "")
        unit = query.get("unit", "")
        days = _whole(query.get("days", ""))
        return cls(
            status=status if status in STATUSES else "open",
            category=category if ctx.catalog.category(category) else "",
            unit=unit if unit in dict(units_to_choose(ctx, officer)) else "",
            days=days if days in DAYS else 0,
            urgent=query.get("urgent") == "1",
            mine=query.get("mine") == "1",
            unread=query.get("unread") == "1",
            nodup=query.get("nodup") == "1",
            q=" ".join(query.get("q", "").split())[:WORDS_CHARS],
            page=max(1, _whole(query.get("page", "1")) or 1),
        )

    def wanted(self, ctx: Context, officer: Officer) -> TipFilter:
        """The same filters as storage reads them."""
        return TipFilter(
            statuses=STATUSES[self.status],
            categories=frozenset({self.category}) if self.category else frozenset(),
            areas=ctx.catalog.under(self.unit) if self.unit else None,
            since=ctx.now - timedelta(days=self.days) if self.days else None,
            unchanged_since=overdue_before(ctx) if self.status == "overdue" else None,
            urgent=self.urgent,
            assigned_to=officer.id if self.mine else None,
            unread_answers=self.unread,
            hide_duplicates=self.nodup,
            words=self.q,
        )

    def address(self, **changed: object) -> dict[str, str]:
        """The address's query for these filters (with `changed` ones), defaults left out."""
        shown = asdict(replace(self, **changed))  # type: ignore[arg-type]
        plain = asdict(Listing())
        return {
            key: "1" if value is True else str(value)
            for key, value in shown.items()
            if value != plain[key]
        }


def units_to_choose(ctx: Context, officer: Officer) -> list[tuple[str, str]]:
    """The units below this officer's, by code and name, in the map's order."""
    mine = ctx.catalog.under(officer.area)
    lang = officer.language
    return [
        (unit.code, unit.name(lang))
        for unit in ctx.catalog.units
        if unit is not ctx.catalog.root
        and unit.code != officer.area
        and (mine is None or set(ctx.catalog.codes(unit)) <= mine)
    ]


def _whole(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 7 else 0
