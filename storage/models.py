"""Tables. No column anywhere holds a tipster's platform id, username, name or phone number."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A passphrase waiting for its slow hash is stored sealed, behind this prefix; the partial
# index below finds those few among millions of tips.
SEALED_PASSPHRASE = "sealed$"
SEALED_PASSPHRASE_WHERE = text("passphrase_hash LIKE 'sealed$%'")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times: every time in Tipline knows its zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite forgets the zone; the stored value is UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class TipStatus(enum.StrEnum):
    """Where a tip stands; closing always says why."""

    RECEIVED = "received"
    VERIFYING = "verifying"
    HANDLED = "handled"
    CLOSED_UNFOUNDED = "closed_unfounded"
    CLOSED_DUPLICATE = "closed_duplicate"
    CLOSED_SPAM = "closed_spam"


class AlertLevel(enum.StrEnum):
    """Which new tips an officer is alerted to at once."""

    ALL = "all"
    URGENT = "urgent"
    OFF = "off"


class ThreadRole(enum.StrEnum):
    """Who wrote a message in a tip's follow-up thread."""

    QUESTION = "question"
    ANSWER = "answer"


class OutboxState(enum.StrEnum):
    """Delivery progress of a message to someone other than the sender."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings: adding a member later needs no ALTER TYPE on PostgreSQL.
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class Tip(Base):
    """What a resident reported, with nothing that says who they are."""

    __tablename__ = "tip"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    category: Mapped[str] = mapped_column(String(24))
    area: Mapped[str] = mapped_column(String(24))
    place: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    occurred: Mapped[str] = mapped_column(String(12))
    urgent: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(2))
    passphrase_hash: Mapped[str] = mapped_column(String(120))
    failed_checks: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    status: Mapped[TipStatus] = mapped_column(_enum(TipStatus))
    status_at: Mapped[datetime]
    top_only: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    # The first time an officer acted on it (took it on, or wrote in its history), kept here
    # so that the overview's response times need not read every tip's history.
    first_action_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # Closed as a duplicate: the tip it repeats (never shown to either tipster).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tip.id"))
    created_at: Mapped[datetime]

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="tip", order_by="Attachment.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[TipEvent]] = relationship(
        back_populates="tip", order_by="TipEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_tip_created_at", "created_at"),
        Index("ix_tip_area_created_at", "area", "created_at"),
        Index("ix_tip_status_status_at", "status", "status_at"),
        # Covers the digest's counts by day, commune and category without reading the rows.
        Index("ix_tip_digest", "created_at", "area", "category", "top_only", "urgent"),
        # Covers the digest's open tips by area and age (a few percent of all tips), and the
        # officers' queue of them, urgent first, ids included (SQLite's indexes hold them anyway).
        Index(
            "ix_tip_open",
            "status",
            "area",
            "top_only",
            "created_at",
            "status_at",
            "urgent",
            postgresql_include=["id"],
        ),
        # Covers what the overview reads of a period's tips: statuses, response times, pins.
        Index(
            "ix_tip_overview",
            "created_at",
            "area",
            "top_only",
            "status",
            "status_at",
            "first_action_at",
            "latitude",
            "longitude",
        ),
        Index(
            "ix_tip_sealed_passphrase",
            "id",
            sqlite_where=SEALED_PASSPHRASE_WHERE,
            postgresql_where=SEALED_PASSPHRASE_WHERE,
        ),
    )


# The tips' words for the desk's search (migration 0019, read by storage/finding.py) are each
# engine's own SQL, which these models do not describe: on SQLite an FTS5 table (with its shadow
# tables) that triggers on `tip` keep in step, on PostgreSQL a GIN index over an expression. A
# later migration that rebuilds `tip` on SQLite (batch mode's copy) drops those triggers with
# the table, and must create them again.
SEARCH_INDEX = "tip_words"


def modelled(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Whether Alembic compares this part of the schema with the models: all but the search's."""
    return not (name or "").startswith((SEARCH_INDEX, f"ix_{SEARCH_INDEX}"))


class TipEvent(Base):
    """One change in a tip's life: a status, a public note, or both."""

    __tablename__ = "tip_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    status: Mapped[TipStatus | None] = mapped_column(_enum(TipStatus))
    public_note: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    created_at: Mapped[datetime]

    tip: Mapped[Tip] = relationship(back_populates="events")
    officer: Mapped[Officer | None] = relationship(foreign_keys=[officer_id], lazy="joined")
    assigned_officer: Mapped[Officer | None] = relationship(
        foreign_keys=[assigned_officer_id], lazy="joined"
    )


class Attachment(Base):
    """A photo, video, voice note or file, kept as the platform's reference to it."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))
    ref: Mapped[str] = mapped_column(String(500))
    # The platform that holds the file (a ref means nothing to another one); empty: unknown.
    channel: Mapped[str] = mapped_column(String(16), server_default="")

    tip: Mapped[Tip] = relationship(back_populates="attachments")


class Contact(Base):
    """The sealed way back to a tipster who agreed to be contacted; deleted on /forget."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Conversation(Base):
    """Where one pseudonymous person is in a conversation, and their unfinished draft."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    step: Mapped[str] = mapped_column(String(24))
    draft: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("channel", "sender"),)


class KeyCheck(Base):
    """Which secret key a database was made with, as a keyed hash (one row): a command started
    with another key stops before it seals or reads anything with the wrong one."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """An update already handled, so that a redelivery changes nothing."""

    __tablename__ = "processed_update"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


class OfferedChoices(Base):
    """The numbered choices a chat without buttons was last offered, kept while other
    processes share the database, so that a "2" typed to any of them means the same."""

    __tablename__ = "offered_choices"

    chat_key: Mapped[str] = mapped_column(String(32), primary_key=True)  # a keyed hash
    options: Mapped[str] = mapped_column(Text)  # JSON: [[label, data], ...]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class PendingAnswer(Base):
    """What an update committed to say to its own chat, kept until the platform took it.

    Sealed whole (the chat's address, the replies, a receipt's passphrase among them) and
    deleted once delivered: a crash or a refusal between the commit and the send loses nothing.
    """

    __tablename__ = "pending_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the update's dedupe key
    channel: Mapped[str] = mapped_column(String(16))
    box: Mapped[bytes] = mapped_column(LargeBinary)
    sent_parts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    # A keyed hash of the chat, so that processes sharing the database send its answers in
    # the order they were committed; and the process delivering it (BotProcess.name).
    chat_key: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(80))
    # Whether the owner holds it in its queue; one another process committed waits until the
    # owner's next look (bot/answers.py).
    queued: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    __table_args__ = (Index("ix_pending_answer_chat", "channel", "chat_key", "id"),)


class BotProcess(Base):
    """A Tipline process sharing the database, alive while it keeps beating.

    Named by its host and address, so that a restarted process is itself again and takes up
    at once the answers it still owed; another's are taken once it missed its beats.
    """

    __tablename__ = "bot_process"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    incarnation: Mapped[str] = mapped_column(String(16))  # tells a restart from a namesake
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class InboxUpdate(Base):
    """An update taken from the platform but not yet handled, sealed: a crash loses none.

    Polled updates are confirmed to the platform only once they are here; each is deleted in
    the transaction that handles it.
    """

    __tablename__ = "inbox_update"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # the update's dedupe key
    channel: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(BigInteger)  # the platform's order
    box: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_inbox_update_position", "channel", "position"),)


class RateBucket(Base):
    """How often a pseudonym did something in one time window."""

    __tablename__ = "rate_bucket"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int]


class PassphraseTries(Base):
    """Wrong passphrases one sender typed for one tip code, under a keyed hash of the pair: the
    row names neither the pseudonym nor the tip, and goes when the tries stop counting."""

    __tablename__ = "passphrase_tries"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed: Mapped[int]
    # The tries count until then (an hour after the last): past the limit, a lock until then.
    expires_at: Mapped[datetime]


class Officer(Base):
    """A police officer known by name, with the area they see and how they want alerts."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    area: Mapped[str | None] = mapped_column(String(24))  # None: the top unit of the map
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str | None] = mapped_column(String(16))
    chat: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="vi")
    alerts: Mapped[AlertLevel] = mapped_column(_enum(AlertLevel), default=AlertLevel.URGENT)
    created_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    digest_time: Mapped[str | None] = mapped_column(String(5))  # None: the deployment's default
    digests: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the platform said the chat is gone or the bot blocked; cleared when they write.
    unreachable_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("channel", "chat"),)


class Invite(Base):
    """A one-time code that enrols a chat as an officer; only its hash is kept."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    officer: Mapped[Officer] = relationship(foreign_keys=[officer_id], lazy="joined")


class DeskLink(Base):
    """A one-time link that signs an officer in to the web desk; only its keyed hash is kept."""

    __tablename__ = "desk_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DeskSession(Base):
    """An officer signed in to the web desk in one browser; only its cookie's keyed hash is
    kept, so a copied database opens no session."""

    __tablename__ = "desk_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ThreadMessage(Base):
    """A question from the police or an answer from the tipster, about one tip."""

    __tablename__ = "thread_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    role: Mapped[ThreadRole] = mapped_column(_enum(ThreadRole))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("thread_message.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_thread_message_pending", "role", "answered_at", "read_at"),)


class AuditLog(Base):
    """Who did what to which tip, when; rows are only ever added (enforced by triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    action: Mapped[str] = mapped_column(String(32))
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tip.id"))
    detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]

    # The admins' audit page reads newest first, narrowed by a period, an officer, a tip or an
    # action: each narrowing has an index that is already in that order.
    __table_args__ = (
        Index("ix_audit_log_created_at", "created_at", "id"),
        Index("ix_audit_log_officer", "officer_id", "created_at", "id"),
        Index("ix_audit_log_tip", "tip_id", "created_at", "id"),
        Index("ix_audit_log_action", "action", "created_at", "id"),
    )


class PatrolGroup(Base):
    """A people's patrol team (Tổ tuần tra nhân dân), looked after by one officer."""

    __tablename__ = "patrol_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    area: Mapped[str] = mapped_column(String(24))
    # None: alerts go to every officer whose scope covers the group's area.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    join_hash: Mapped[str] = mapped_column(String(64), unique=True)
    max_members: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class PatrolMember(Base):
    """A volunteer in a patrol group, known by the name they gave (not anonymous)."""

    __tablename__ = "patrol_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("patrol_group.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(80))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_patrol_member_chat", "channel", "chat"),)


class PatrolSlot(Base):
    """One weekly planned shift: weekday (0 = Monday) and local start/end times (HH:MM)."""

    __tablename__ = "patrol_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("patrol_group.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))


class Shift(Base):
    """A member's patrol from check-in to check-out."""

    __tablename__ = "shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("patrol_group.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("patrol_member.id"), index=True)
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text)


class PatrolPoint(Base):
    """Where a member was during a shift: the start, a checkpoint, or an incident's place."""

    __tablename__ = "patrol_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # start, checkpoint, incident
    at: Mapped[datetime]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(24))
    photo: Mapped[str | None] = mapped_column(String(500))
    far: Mapped[bool] = mapped_column(Boolean, default=False)


class MissedPatrol(Base):
    """A planned shift nobody checked in for by start + grace; closed by an officer's comment."""

    __tablename__ = "missed_patrol"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("patrol_group.id"))
    planned_start: Mapped[datetime]
    planned_end: Mapped[datetime]
    raised_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("group_id", "planned_start"),
        Index("ix_missed_patrol_open", "closed_at", "group_id"),
    )


class DigestClaim(Base):
    """One officer's digest for one period: the row that makes it happen at most once.

    `state` says what became of it: sent on time, sent late (after a restart), skipped
    (too old to be useful), or off (the officer had digests switched off).
    """

    __tablename__ = "digest_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    kind: Mapped[str] = mapped_column(String(8))  # daily, weekly
    period: Mapped[str] = mapped_column(String(10))  # local date of the scheduled moment
    state: Mapped[str] = mapped_column(String(8))
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("officer_id", "kind", "period"),)


class Outbox(Base):
    """A message for someone other than the sender, delivered after the commit with retries.

    The recipient is an officer (`officer_id`) or else the tipster of `tip_id`, reached
    through the tip's sealed contact. `priority` is a handlers.types.Priority (lower goes
    first). A sender holds a message while `lease` is its token and `next_attempt_at` (the
    lease's end) is ahead; `sent_parts` are the parts that already went out.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    payload: Mapped[dict[str, Any]]
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("2"))
    lease: Mapped[str | None] = mapped_column(String(32))
    sent_parts: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
