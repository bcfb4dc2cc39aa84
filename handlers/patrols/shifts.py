"""People's patrol groups: joining, shifts with checkpoints and incidents, and check-out."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.catalog import Catalog
from handlers.common.codes import CODE_ALPHABET
from handlers.common.notices import tell_officer
from handlers.common.schedule import planned_for
from handlers.common.scopes import unit_codes
from handlers.common.texts import N_, text
from handlers.common.types import Context, Kind, Media, MediaKind, Option, Priority, Reply
from handlers.conversation.buttons import (
    Checkpoint,
    EndShift,
    Incident,
    IncidentCategory,
    MemberButton,
    QuietShift,
)
from handlers.conversation.turn import StepName, Turn, back_to_draft
from storage.models import Officer, PatrolGroup, PatrolMember, PatrolPoint, Shift
from storage.officers import get_officer, list_officers_covering
from storage.patrols import (
    add_member,
    add_point,
    add_shift,
    end_shift,
    get_group,
    get_group_by_join_hash,
    get_membership,
    list_members,
    list_points,
    list_slots,
    open_shift_of,
    set_member,
)

JOIN_LENGTH = 8
JOIN_LINK_PREFIX = "pt-"
NAME_CHARS = 80
NOTE_CHARS = 1000
# Where a point was: (latitude, longitude, place, photo), each when the member gave it.
Where = tuple[float | None, float | None, str | None, str | None]
# Where the map's box is, plus this much, a location still counts as nearby.
NEARBY_MARGIN_DEGREES = 0.1


def join_hash(ctx: Context, code: str) -> str:
    """What is stored of a join code: a keyed hash."""
    return ctx.sealer.digest("patrol", code)


def new_join_code() -> str:
    """A fresh join code for a group."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(JOIN_LENGTH))


def is_far(catalog: Catalog, latitude: float | None, longitude: float | None) -> bool:
    """Whether a pin lies well outside the map's extent (kept, but flagged for the officer)."""
    box = catalog.bbox
    if box is None or latitude is None or longitude is None:
        return False
    margin = NEARBY_MARGIN_DEGREES
    inside_lat = box.south - margin <= latitude <= box.north + margin
    inside_lon = box.west - margin <= longitude <= box.east + margin
    return not (inside_lat and inside_lon)


async def membership(turn: Turn) -> PatrolMember | None:
    """This chat's patrol membership (members are known by name; their chat is not secret)."""
    return await get_membership(turn.db, channel=turn.msg.channel, chat=turn.msg.chat)


# --- joining ---


async def join(turn: Turn) -> list[Reply]:
    """/join CODE or the pt- deep link: become a member of that group, then give a name."""
    code = turn.msg.args.strip().removeprefix(JOIN_LINK_PREFIX)
    group = await get_group_by_join_hash(turn.db, join_hash(turn.ctx, code))
    if group is None:
        return [turn.say("join.bad")]
    if group.deleted_at is not None:
        return [turn.say("join.deleted")]
    current = await membership(turn)
    if current is not None:
        key = N_("join.already") if current.group_id == group.id else N_("join.other")
        mine = await get_group(turn.db, current.group_id)
        return [turn.say(key, group=mine.name if mine else "?")]
    if len(await list_members(turn.db, group.id)) >= group.max_members:
        return [Reply(turn.tn("join.full", group.max_members, group=group.name))]
    await add_member(
        turn.db, group_id=group.id, channel=turn.msg.channel, chat=turn.msg.chat, now=turn.ctx.now
    )
    turn.detour(StepName.PATROL_NAME)
    return [turn.say("join.ask_name", group=group.name)]


async def answer_name(turn: Turn) -> list[Reply]:
    """The member's display name, asked once."""
    member = await membership(turn)
    name = turn.msg.text.strip()[:NAME_CHARS] if turn.msg.kind is Kind.TEXT else ""
    if member is None:
        return await back_to_draft(turn, [turn.say("not.member")])
    if not name:
        return [turn.say("need.text")]
    await set_member(turn.db, member, name=name)
    return await back_to_draft(turn, [turn.say("join.done", name=name)])


async def leave(turn: Turn) -> list[Reply]:
    """/leave: out of the group (an open shift is closed first)."""
    member = await membership(turn)
    if member is None:
        return [turn.say("not.member")]
    shift = await open_shift_of(turn.db, member.id)
    if shift is not None:
        await end_shift(turn.db, shift, now=turn.ctx.now, summary=None)
    await set_member(turn.db, member, left_at=turn.ctx.now)
    group = await get_group(turn.db, member.group_id)
    return [turn.say("leave.done", group=group.name if group else "?")]


# --- a shift ---


def shift_menu(turn: Turn) -> Reply:
    """What a member can do while on shift."""
    options = (
        turn.option("button.checkpoint", Checkpoint().pack()),
        turn.option("button.incident", Incident().pack()),
        turn.option("button.end_shift", EndShift().pack()),
    )
    return Reply(turn.t("shift.menu"), options)


async def _member_and_shift(turn: Turn) -> tuple[PatrolMember | None, Shift | None]:
    member = await membership(turn)
    shift = await open_shift_of(turn.db, member.id) if member else None
    return member, shift


def _ask_where(turn: Turn, key: str) -> Reply:
    return Reply(turn.t(key), request_location=turn.t("share.location"))


async def checkin(turn: Turn) -> list[Reply]:
    """/checkin: ask where the member is (a double check-in changes nothing)."""
    member, shift = await _member_and_shift(turn)
    if member is None:
        return [turn.say("not.member")]
    if shift is not None:
        return [
            turn.say("checkin.already", since=turn.ctx.local(shift.started_at)),
            shift_menu(turn),
        ]
    turn.detour(StepName.PATROL_START)
    return [_ask_where(turn, N_("checkin.ask"))]


def _where(turn: Turn) -> Where | None:
    """(lat, lon, place, photo) from a pin, a typed place, or a photo with a caption."""
    msg = turn.msg
    if msg.kind is Kind.LOCATION and msg.location is not None:
        return msg.location.latitude, msg.location.longitude, None, None
    if msg.kind is Kind.TEXT and msg.text.strip():
        return None, None, msg.text.strip()[:300], None
    if msg.kind is Kind.MEDIA and msg.media:
        return None, None, (msg.caption.strip()[:300] or None), msg.media[0].ref
    return None


async def answer_checkin_place(turn: Turn) -> list[Reply]:
    """Start the shift where the member is, matched to the planned one; late is recorded."""
    member = await membership(turn)
    where = _where(turn)
    if member is None:
        return await back_to_draft(turn, [turn.say("not.member")])
    if where is None:
        return [_ask_where(turn, N_("checkin.ask"))]
    if await open_shift_of(turn.db, member.id) is not None:
        return await back_to_draft(turn, [turn.say("checkin.already", since="—"), shift_menu(turn)])
    slots = [(s.weekday, s.starts, s.ends) for s in await list_slots(turn.db, member.group_id)]
    planned = planned_for(slots, turn.ctx.timezone, turn.ctx.now)
    late = planned is not None and turn.ctx.now > planned.start + turn.ctx.limits.patrol_grace
    shift = await add_shift(
        turn.db,
        group_id=member.group_id,
        member_id=member.id,
        now=turn.ctx.now,
        planned=(planned.start, planned.end) if planned else None,
        late=late,
    )
    far = await _record_point(turn, shift, "start", where)
    done = turn.t(
        "checkin.done",
        at=turn.ctx.local(turn.ctx.now),
        late=turn.t("checkin.late", planned=turn.ctx.local(planned.start))
        if late and planned
        else "",
        far=turn.t("far.flag") if far else "",
    )
    return await back_to_draft(turn, [Reply(done), shift_menu(turn)])


async def _record_point(
    turn: Turn,
    shift: Shift,
    kind: str,
    where: Where,
    *,
    note: str | None = None,
    category: str | None = None,
) -> bool:
    latitude, longitude, place, photo = where
    far = is_far(turn.ctx.catalog, latitude, longitude)
    point = PatrolPoint(
        shift_id=shift.id,
        kind=kind,
        at=turn.ctx.now,
        latitude=latitude,
        longitude=longitude,
        place=place,
        note=note,
        category=category,
        photo=photo,
        far=far,
    )
    await add_point(turn.db, point)
    return far


async def member_button(turn: Turn, button: MemberButton | None) -> list[Reply]:
    """Shift buttons: checkpoint, incident (category first), end; all need an open shift."""
    member, shift = await _member_and_shift(turn)
    if member is None:
        return [turn.say("not.member")]
    if shift is None:
        return [turn.say("checkout.none")]
    match button:
        case Checkpoint():
            turn.detour(StepName.PATROL_CHECKPOINT)
            return [_ask_where(turn, N_("checkpoint.ask"))]
        case Incident():
            categories = turn.ctx.catalog.categories
            options = tuple(
                Option(c.name(turn.lang), IncidentCategory(c.code).pack()) for c in categories
            )
            return [Reply(turn.t("incident.ask_category"), options, columns=2)]
        case IncidentCategory(category=code) if turn.ctx.catalog.category(code):
            turn.detour(StepName.PATROL_INCIDENT, category=code)
            return [turn.say("incident.ask_text")]
        case EndShift():
            return await checkout(turn)
        case QuietShift():
            return await _finish(turn, shift, turn.t("button.quiet"))
    return [turn.say("bad.button"), shift_menu(turn)]


async def answer_checkpoint(turn: Turn) -> list[Reply]:
    """A checkpoint: a pin, a place name, or a photo with a caption."""
    _, shift = await _member_and_shift(turn)
    where = _where(turn)
    if shift is None:
        return await back_to_draft(turn, [turn.say("checkout.none")])
    if where is None:
        return [_ask_where(turn, N_("checkpoint.ask"))]
    far = await _record_point(turn, shift, "checkpoint", where)
    at = turn.ctx.local(turn.ctx.now)
    done = turn.t("checkpoint.done", at=at, far=turn.t("far.flag") if far else "")
    return await back_to_draft(turn, [Reply(done), shift_menu(turn)])


async def answer_incident(turn: Turn) -> list[Reply]:
    """An incident: recorded on the shift with its category and sent at once to the group's
    officer, with names. A photo without words, or a pin, is kept while the words are asked."""
    member, shift = await _member_and_shift(turn)
    where = _where(turn)
    if member is None or shift is None:
        return await back_to_draft(turn, [turn.say("checkout.none")])
    if where is None:
        return [turn.say("incident.ask_text")]
    kept = turn.detour_data
    latitude, longitude, _, photo = found = _with_kept(kept, where)
    story = (turn.msg.text if turn.msg.kind is Kind.TEXT else turn.msg.caption).strip()
    if not story:
        # The same step: its category stays, and the words are asked for again.
        turn.detour(StepName.PATROL_INCIDENT, latitude=latitude, longitude=longitude, photo=photo)
        return [turn.say("incident.ask_text")]
    category = str(kept.get("category", "other"))
    await _record_point(turn, shift, "incident", found, note=story[:NOTE_CHARS], category=category)
    await _tell_officer(turn, member, category, story[:NOTE_CHARS], photo)
    return await back_to_draft(turn, [turn.say("incident.done"), shift_menu(turn)])


def _with_kept(kept: dict[str, Any], where: Where) -> Where:
    """A pin or photo this message brings, else the one an earlier message of the incident left
    (a place typed is the incident's words, not a place)."""
    latitude, longitude, _, photo = where
    if latitude is None and kept.get("latitude") is not None:
        latitude, longitude = float(kept["latitude"]), float(kept["longitude"])
    return latitude, longitude, None, photo if photo is not None else kept.get("photo")


async def group_officers(db: AsyncSession, ctx: Context, group: PatrolGroup) -> list[Officer]:
    """Who hears from a group: its officer, or (none active) every officer covering its area."""
    own = await get_officer(db, group.officer_id) if group.officer_id is not None else None
    if own is not None and own.revoked_at is None and own.chat is not None:
        return [own]
    return await list_officers_covering(
        db, unit_codes(ctx.catalog, list(ctx.catalog.line(group.area)))
    )


async def _tell_officer(
    turn: Turn, member: PatrolMember, category: str, story: str, photo: str | None
) -> None:
    group = await get_group(turn.db, member.group_id)
    if group is None:
        return
    named = turn.ctx.catalog.category(category)
    media = (Media(MediaKind.PHOTO, photo),) if photo is not None else ()
    for officer in await group_officers(turn.db, turn.ctx, group):
        lang = officer.language
        body = text(
            lang,
            "incident.to_officer",
            group=group.name,
            member=member.name or "?",
            category=named.name(lang) if named else category,
            at=turn.ctx.local(turn.ctx.now),
            text=story,
        )
        reply = Reply(body, media=media)
        await tell_officer(turn.db, officer.id, reply, now=turn.ctx.now, priority=Priority.NOTICE)


async def checkout(turn: Turn) -> list[Reply]:
    """/checkout: "all quiet" or a short summary ends the shift."""
    member, shift = await _member_and_shift(turn)
    if member is None:
        return [turn.say("not.member")]
    if shift is None:
        return [turn.say("checkout.none")]
    turn.detour(StepName.PATROL_END)
    return [Reply(turn.t("checkout.ask"), (turn.option("button.quiet", QuietShift().pack()),))]


async def answer_checkout(turn: Turn) -> list[Reply]:
    """The typed summary that ends the shift."""
    _, shift = await _member_and_shift(turn)
    if shift is None:
        return await back_to_draft(turn, [turn.say("checkout.none")])
    summary = turn.msg.text.strip()[:NOTE_CHARS] if turn.msg.kind is Kind.TEXT else ""
    if not summary:
        return [Reply(turn.t("checkout.ask"), (turn.option("button.quiet", QuietShift().pack()),))]
    return await _finish(turn, shift, summary)


async def _finish(turn: Turn, shift: Shift, summary: str) -> list[Reply]:
    await end_shift(turn.db, shift, now=turn.ctx.now, summary=summary)
    points = [p for p in await list_points(turn.db, [shift.id]) if p.kind == "checkpoint"]
    minutes = int((turn.ctx.now - shift.started_at).total_seconds() // 60)
    done = turn.say(
        "checkout.done",
        minutes=turn.tn("count.minutes", minutes),
        points=turn.tn("count.checkpoints", len(points)),
    )
    if turn.step.startswith("pt."):
        return await back_to_draft(turn, [done])
    return [done]


async def location_without_shift(turn: Turn) -> list[Reply] | None:
    """A pin from a member who is not on shift is not recorded; they are told so (None for
    anything else: not a pin, or not a member's)."""
    if turn.msg.kind is not Kind.LOCATION:
        return None
    member, shift = await _member_and_shift(turn)
    if member is None or shift is not None:
        return None
    return [turn.say("location.no_shift")]
