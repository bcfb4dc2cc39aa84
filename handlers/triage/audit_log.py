"""What the admins' audit page shows, as plain data: who did what to which tip, and when,
narrowed as the admin chose; a tip outside the admin's scope is never named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.codes import parse_code, show_code
from handlers.common.notices import STATUS_NAMES
from handlers.common.scopes import may_see, scope_of
from handlers.common.texts import N_, text
from handlers.common.types import Context
from handlers.triage.export import PeriodRefused, day_of, in_order, local_span
from storage.audit import AuditFilter, add_audit, list_audit_actions, list_audit_page
from storage.models import AuditLog, Officer, TipStatus
from storage.officers import list_officers
from storage.tips import get_tip, list_tip_codes

AUDIT_PAGE_SIZE = 50
# The officer filter's value for rows written from the command line, with no officer.
OPERATOR = "operator"
# Each action the code audits, in words; an action not named here is shown as stored.
ACTION_WORDS = {
    "view": N_("audit.action.view"),
    "public_note": N_("audit.action.public_note"),
    "internal_note": N_("audit.action.internal_note"),
    "question": N_("audit.action.question"),
    "assign": N_("audit.action.assign"),
    "acknowledge": N_("audit.action.acknowledge"),
    "duplicate_of": N_("audit.action.duplicate_of"),
    "export": N_("audit.action.export"),
    "invite": N_("audit.action.invite"),
    "enrol": N_("audit.action.enrol"),
    "revoke": N_("audit.action.revoke"),
    "desk_link": N_("audit.action.desk_link"),
    "desk_sign_in": N_("audit.action.desk_sign_in"),
    "desk_sign_out": N_("audit.action.desk_sign_out"),
    "desk_queue": N_("audit.action.desk_queue"),
    "desk_audit": N_("audit.action.desk_audit"),
}
# Actions stored with the status they set after a colon: "status:handled", "undo:handled".
STATUS_ACTIONS = {"status": N_("audit.action.status"), "undo": N_("audit.action.undo")}
STATUSES = {status.value: status for status in TipStatus}


def action_words(lang: str, action: str) -> str:
    """An audited action as the reader says it."""
    kind, _, value = action.partition(":")
    if kind in STATUS_ACTIONS and value in STATUSES:
        status = text(lang, STATUS_NAMES[STATUSES[value]])
        return text(lang, STATUS_ACTIONS[kind], status=status)
    said = ACTION_WORDS.get(action)
    return text(lang, said) if said else action


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The filters as the address carries them, kept as typed so the form shows them again."""

    officer: str = ""  # an officer's id, OPERATOR, or "" for everyone
    code: str = ""
    action: str = ""
    start: str = ""
    end: str = ""
    page: int = 0

    @classmethod
    def from_address(cls, query: Mapping[str, str]) -> AuditQuery:
        """The filters in a page's address (anything longer than a filter needs is cut)."""
        page = query.get("page", "1")
        return cls(
            **{name: query.get(name, "").strip()[:40] for name in FIELDS},
            page=int(page) - 1 if page.isdigit() and 0 < len(page) < 7 else 0,
        )

    def address(self, page: int) -> dict[str, str]:
        """The filters for a link to another page of the same rows."""
        chosen = {name: getattr(self, name) for name in FIELDS if getattr(self, name)}
        return {**chosen, "page": str(page + 1)}


FIELDS = ("officer", "code", "action", "start", "end")


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit row, as the admin reads it."""

    when: str
    who: str
    action: str
    code: str  # "" when the row names no tip, or one outside the admin's scope
    tip_id: int | None  # set only with the code
    detail: str


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a filter's list."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    """A page of the audit log, the filters' choices, and what was wrong with the filters."""

    lines: tuple[AuditLine, ...]
    total: int
    page: int
    pages: int
    officers: tuple[Choice, ...]
    actions: tuple[Choice, ...]
    problem: str


async def audit_page(
    db: AsyncSession, ctx: Context, admin: Officer, query: AuditQuery
) -> AuditPage:
    """The audit rows the filters choose, newest first; reading them is itself audited."""
    await add_audit(
        db, officer_id=admin.id, action="desk_audit", now=ctx.now, detail=_detail(query)
    )
    lang = admin.language
    officers = await list_officers(db)
    names = {officer.id: officer.name for officer in officers}
    choices = (
        tuple(Choice(str(o.id), o.name) for o in officers),
        tuple(Choice(a, action_words(lang, a)) for a in await list_audit_actions(db)),
    )
    try:
        chosen = await _filter(db, ctx, admin, query)
    except PeriodRefused as refused:
        return AuditPage((), 0, 0, 1, *choices, text(lang, refused.said, **refused.values))
    if chosen is None:
        return AuditPage((), 0, 0, 1, *choices, text(lang, "desk.no_tip"))
    rows, total = await list_audit_page(
        db, chosen, offset=query.page * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE
    )
    tip_ids = {row.tip_id for row in rows if row.tip_id is not None}
    codes = await list_tip_codes(db, tip_ids, scope_of(ctx, admin))
    lines = tuple(_line(ctx, lang, row, names, codes) for row in rows)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return AuditPage(lines, total, query.page, pages, *choices, "")


async def _filter(
    db: AsyncSession, ctx: Context, admin: Officer, query: AuditQuery
) -> AuditFilter | None:
    """The storage filter for the query; None when it names a tip the admin may not see (as
    if it did not exist)."""
    tip_id = None
    if query.code:
        stored = parse_code(query.code)
        tip = await get_tip(db, stored) if stored else None
        if tip is None or not may_see(ctx, admin, tip):
            return None
        tip_id = tip.id
    first = day_of(query.start) if query.start else None
    last = day_of(query.end) if query.end else None
    if first is not None and last is not None:
        in_order(first, last)
    officer = query.officer
    return AuditFilter(
        officer_id=int(officer) if officer.isdigit() and len(officer) < 10 else None,
        by_operator=officer == OPERATOR,
        tip_id=tip_id,
        action=query.action or None,
        since=local_span(ctx, first, first)[0] if first else None,
        until=local_span(ctx, last, last)[1] if last else None,
    )


def _line(
    ctx: Context, lang: str, row: AuditLog, names: dict[int, str], codes: dict[int, str]
) -> AuditLine:
    code = codes.get(row.tip_id) if row.tip_id is not None else None
    if row.officer_id is None:
        who = text(lang, "audit.operator")
    else:
        who = names.get(row.officer_id, f"#{row.officer_id}")
    return AuditLine(
        when=row.created_at.astimezone(ctx.timezone).strftime("%d/%m/%Y %H:%M:%S"),
        who=who,
        action=action_words(lang, row.action),
        code=show_code(code) if code else "",
        tip_id=row.tip_id if code else None,
        detail=row.detail or "",
    )


def _detail(query: AuditQuery) -> str:
    # What was looked for, so the log of reading the log says what was read.
    chosen = query.address(query.page)
    return " ".join(f"{name}={value}" for name, value in chosen.items())
