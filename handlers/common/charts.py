"""Tips per day by category: counted for the digest's picture and the desk's overview alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from handlers.common.catalog import Catalog
from handlers.common.texts import text
from handlers.common.types import Chart

# Colours a reader tells apart at a glance: the five busiest categories, the rest as one.
CHART_SERIES = 6


class Daily(Protocol):
    """Tips of one category on one local day (YYYY-MM-DD)."""

    @property
    def day(self) -> str:
        """The local day."""

    @property
    def category(self) -> str:
        """The category's code."""

    @property
    def count(self) -> int:
        """How many tips."""


def per_day(
    counts: Iterable[Daily], zone: ZoneInfo, start: datetime, days: int
) -> tuple[list[date], dict[str, list[int]]]:
    """The local days from `start` on, and each category's tips on each of them."""
    first = start.astimezone(zone).date()
    dates = [first + timedelta(days=n) for n in range(days)]
    index = {day.isoformat(): n for n, day in enumerate(dates)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for count in counts:
        if count.day in index:
            series[count.category][index[count.day]] += count.count
    return dates, dict(series)


def category_chart(
    catalog: Catalog, lang: str, days: list[date], per_category: dict[str, list[int]], title: str
) -> Chart:
    """Tips per day stacked by category, busiest first; the smallest categories share one
    colour (and a single leftover category keeps its own name)."""
    ranked = sorted(per_category.items(), key=lambda item: (-sum(item[1]), item[0]))
    shown, rest = ranked[: CHART_SERIES - 1], ranked[CHART_SERIES - 1 :]
    if len(rest) == 1:
        shown, rest = ranked, []
    series = [(catalog.category_name(code, lang), tuple(counts)) for code, counts in shown]
    if rest:
        others = tuple(sum(counts[n] for _, counts in rest) for n in range(len(days)))
        series.append((text(lang, "digest.chart.other"), others))
    return Chart(
        title=title,
        labels=tuple(day.strftime("%d/%m") for day in days),
        series=tuple(series),
    )
