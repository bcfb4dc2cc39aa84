"""Weekly patrol plans: "Mon-Sun 21:00-23:30" in, concrete planned shifts (in UTC) out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.folding import fold

DAYS = {
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: n for n, name in enumerate(("t2", "t3", "t4", "t5", "t6", "t7", "cn"))},
}
# Days, then two times of day in any form parse_clock reads (21:00, 21h, 21h30, 21.30).
_PART = re.compile(
    r"^(?P<first>[a-z0-9]+)(?:-(?P<last>[a-z0-9]+))?\s+"
    r"(?P<start>[0-9:h.]+)\s*-\s*(?P<end>[0-9:h.]+)$"
)
# A check-in this long before a planned start still counts for it.
EARLY = timedelta(hours=1)


def local_days(now: datetime, zone: ZoneInfo, days: int) -> tuple[datetime, datetime]:
    """The last `days` local days, today included: from a midnight to the next one after now."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, zone)
    return start, datetime.combine(today + timedelta(days=1), time.min, zone)


@dataclass(frozen=True, slots=True)
class Planned:
    """One planned shift on a calendar: when it starts and ends, in UTC."""

    start: datetime
    end: datetime


_CLOCK = re.compile(r"^(?P<hours>\d{1,2})(?:[:h.](?P<minutes>\d{2})?)?$")


def parse_clock(text: str) -> str | None:
    """HH:MM from "7:00", "07:30", "7h", "7h30" or "6.45"; None if it is not a time of day."""
    match = _CLOCK.match(text.strip().lower())
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    return f"{hours:02d}:{minutes:02d}" if hours < 24 and minutes < 60 else None


def parse_schedule(text: str) -> list[tuple[int, str, str]] | None:
    """Weekly slots from e.g. "Mon-Sun 21:00-23:30, Sat 20:00-02:00" (T2-CN works too, and
    times as /digest time takes them: "T2 8h15-10h")."""
    slots: list[tuple[int, str, str]] = []
    for part in (p.strip() for p in fold(text).split(",")):
        match = _PART.match(part)
        if match is None or match["first"] not in DAYS:
            return None
        first, last = DAYS[match["first"]], DAYS.get(match["last"] or match["first"])
        starts, ends = parse_clock(match["start"]), parse_clock(match["end"])
        if last is None or starts is None or ends is None or starts == ends:
            return None
        span = (last - first) % 7
        slots += [((first + n) % 7, starts, ends) for n in range(span + 1)]
    return sorted(set(slots)) or None


# Weekdays as the plan writes them, Monday first.
DAY_NAMES = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def show_slots(slots: list[tuple[int, str, str]]) -> str:
    """The plan as people read it: "T2 21:00-23:30, T3 21:00-23:30, ..."."""
    return ", ".join(f"{DAY_NAMES[day]} {starts}-{ends}" for day, starts, ends in slots)


def planned_between(
    slots: list[tuple[int, str, str]], zone: ZoneInfo, since: datetime, until: datetime
) -> list[Planned]:
    """Every planned shift that starts in [since, until), across midnight and week boundaries."""
    found = []
    day: date = since.astimezone(zone).date() - timedelta(days=1)
    last_day = until.astimezone(zone).date()
    while day <= last_day:
        for weekday, starts, ends in slots:
            if day.weekday() != weekday:
                continue
            start = datetime.combine(day, time.fromisoformat(starts), zone)
            end = datetime.combine(day, time.fromisoformat(ends), zone)
            if end <= start:
                end += timedelta(days=1)  # a night shift ends the next morning
            if since <= start < until:
                found.append(Planned(start.astimezone(since.tzinfo), end.astimezone(since.tzinfo)))
        day += timedelta(days=1)
    return sorted(found, key=lambda planned: planned.start)


def planned_for(
    slots: list[tuple[int, str, str]], zone: ZoneInfo, moment: datetime
) -> Planned | None:
    """The planned shift a check-in at `moment` belongs to: from an hour before it to its end."""
    window = planned_between(slots, zone, moment - timedelta(days=1), moment + EARLY)
    return next((p for p in window if p.start - EARLY <= moment < p.end), None)


def next_planned(
    slots: list[tuple[int, str, str]], zone: ZoneInfo, moment: datetime
) -> Planned | None:
    """The planned shift under way at `moment`, or else the next one to begin."""
    window = planned_between(slots, zone, moment - timedelta(days=1), moment + timedelta(days=8))
    return next((p for p in window if p.end > moment), None)
