"""Plain data that crosses between channels and the product: no platform object passes here."""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handlers.common.clean import clean_text

if TYPE_CHECKING:
    from handlers.common.catalog import Catalog
    from handlers.common.sealing import Sealer


class Kind(enum.StrEnum):
    """What a person sent, as far as the product cares."""

    COMMAND = "command"
    TEXT = "text"
    CHOICE = "choice"
    LOCATION = "location"
    MEDIA = "media"
    EDITED = "edited"
    UNSUPPORTED = "unsupported"


class MediaKind(enum.StrEnum):
    """Attachments a tipster can add to a tip."""

    PHOTO = "photo"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    DOCUMENT = "document"


class Priority(enum.IntEnum):
    """Which message goes first when the platform lets only some go: the lower, the sooner."""

    ANSWER = 0  # a reply to a resident who is waiting for it
    URGENT = 1  # urgent alerts, escalations
    NOTICE = 2  # questions, relayed answers, status notices, other alerts
    DIGEST = 3  # digests and weekly summaries


@dataclass(frozen=True, slots=True)
class Media:
    """A file the platform keeps for us, known by its reference (a file id or URL).

    `original` marks a picture or video kept byte for byte, hidden metadata (GPS) included.
    """

    kind: MediaKind
    ref: str
    original: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    """A map pin."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did in a chat, normalised by the channel adapter.

    `sender` is already a keyed pseudonym; `chat` is the raw address to answer and is kept
    out of repr() so that it never lands in a log line by accident.
    """

    channel: str
    sender: str
    chat: str = field(repr=False)
    kind: Kind
    dedupe_key: str
    private: bool = True
    command: str = ""
    args: str = ""
    text: str = ""
    choice: str = ""
    location: Location | None = None
    media: tuple[Media, ...] = ()
    caption: str = ""
    forwarded: bool = False
    unsupported: str = ""
    language_hint: str = ""

    def __post_init__(self) -> None:
        # Every channel builds an Incoming, so what a person typed is cleaned here, once,
        # before any of it is stored or shown to an officer.
        for typed in _TYPED:
            value = getattr(self, typed)
            if value:
                object.__setattr__(self, typed, clean_text(value))


# The fields of an Incoming that hold what the person typed.
_TYPED = ("command", "args", "text", "caption")


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the person: a button on Telegram, a numbered line elsewhere."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Document:
    """A file made for the person (an export), sent as a document."""

    name: str
    content: bytes

    def to_json(self) -> dict[str, Any]:
        """Serialise for a stored answer (the content as base64)."""
        return {"name": self.name, "content": base64.b64encode(self.content).decode()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        """Rebuild a document kept in a stored answer."""
        return cls(str(data["name"]), base64.b64decode(data["content"]))


@dataclass(frozen=True, slots=True)
class Chart:
    """A stacked bar chart the channel draws as a picture: one bar per label, one colour per series.

    `series` pairs each series' name with its value for every label, in order.
    """

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]

    def to_json(self) -> dict[str, Any]:
        """Serialise for the outbox table."""
        return {
            "title": self.title,
            "labels": list(self.labels),
            "series": [[name, list(values)] for name, values in self.series],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chart:
        """Rebuild a chart stored in the outbox."""
        return cls(
            title=str(data["title"]),
            labels=tuple(str(label) for label in data["labels"]),
            series=tuple(
                (str(name), tuple(int(v) for v in values)) for name, values in data["series"]
            ),
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """A message for the person who wrote, or (through the outbox) for someone else.

    `request_location` is the label of a "share location" button, when one is wanted;
    `in_place` replaces the message whose button was pressed instead of sending a new one;
    `media` are attachments re-sent by reference after the text (never forwarded);
    `document` is a file made for this person (not kept in the outbox);
    `chart` is a picture drawn by the channel and sent before the text.
    """

    text: str
    options: tuple[Option, ...] = ()
    columns: int = 1
    request_location: str = ""
    in_place: bool = False
    media: tuple[Media, ...] = ()
    document: Document | None = None
    chart: Chart | None = None

    def to_json(self) -> dict[str, Any]:
        """Serialise for the outbox table."""
        return {
            "text": self.text,
            "options": [[o.label, o.data] for o in self.options],
            "columns": self.columns,
            "request_location": self.request_location,
            "media": [[m.kind.value, m.ref] for m in self.media],
            "chart": self.chart.to_json() if self.chart else None,
            "in_place": self.in_place,
            "document": self.document.to_json() if self.document else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """Rebuild a reply stored in the outbox."""
        return cls(
            text=data["text"],
            options=tuple(Option(label, value) for label, value in data.get("options", [])),
            columns=int(data.get("columns", 1)),
            request_location=str(data.get("request_location", "")),
            media=tuple(Media(MediaKind(kind), ref) for kind, ref in data.get("media", [])),
            chart=Chart.from_json(data["chart"]) if data.get("chart") else None,
            in_place=bool(data.get("in_place", False)),
            document=Document.from_json(data["document"]) if data.get("document") else None,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """Operator-tunable limits on what one person can do, and when scheduled things happen."""

    tips_per_hour: int = 5
    messages_per_minute: int = 30
    # A whole Telegram message (4,096) twice over and more: splitting a long story helps.
    description_chars: int = 10_000
    attachments: int = 10
    draft_ttl_hours: int = 24
    contact_retention_days: int = 180
    # Wrong passphrases, each within the hour of the last, that lock one person out of one tip
    # for an hour...
    passphrase_attempts: int = 5
    # ...and from everyone together, that lock the tip for everyone: a guesser with many
    # accounts gets no further, and a stranger alone cannot lock the tipster out.
    passphrase_attempts_per_tip: int = 20
    overdue_hours: int = 72
    escalate_after_minutes: int = 15
    invite_hours: int = 72
    patrol_grace_minutes: int = 30
    digest_time: str = "07:00"
    weekly_digest: bool = True
    digest_catch_up_hours: int = 36

    @property
    def patrol_grace(self) -> timedelta:
        """How long after a planned start a check-in still counts as on time."""
        return timedelta(minutes=self.patrol_grace_minutes)


@dataclass(frozen=True, slots=True)
class PassphraseCheck:
    """A typed passphrase to check against a tip's stored value (matches: None until checked)."""

    code: str
    typed: str
    stored: str
    matches: bool | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler may know besides the message: the time, the data, the keys."""

    now: datetime
    timezone: ZoneInfo
    catalog: Catalog
    sealer: Sealer
    limits: Limits = Limits()
    bot_username: str = ""
    passphrase_check: PassphraseCheck | None = None
    desk_url: str = ""  # where the web desk is reached ("https://host"); "": not served

    def local(self, moment: datetime) -> str:
        """A moment as people here read it: day/month hour:minute, local time."""
        return moment.astimezone(self.timezone).strftime("%d/%m %H:%M")
