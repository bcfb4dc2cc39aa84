"""The resident's tip, step by step: category, commune, place, story, when, urgency, review."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any

from handlers.common.catalog import Catalog
from handlers.common.codes import new_code, new_passphrase, normalise_passphrase, show_code
from handlers.common.matching import typed_words
from handlers.common.texts import N_, decimal
from handlers.common.tip_text import WHEN, when_label
from handlers.common.types import Kind, Option, Reply
from handlers.conversation.buttons import DraftChoice, new_draft_token, read_draft_choice
from handlers.conversation.turn import Step, StepName, Turn, picked
from handlers.tips.alerts import alert_new_tip
from storage.guards import count_action, get_action_count
from storage.tips import NewTip, add_contact, add_tip, code_exists

AREAS_PER_PAGE = 10
PLACE_CHARS = 300
# The end of what a cut message kept, quoted so that the person sees where the story stops.
CUT_ECHO_CHARS = 40
EDITABLE = {
    StepName.CATEGORY: N_("field.category"),
    StepName.AREA: N_("field.area"),
    StepName.PLACE: N_("field.place"),
    StepName.DESCRIPTION: N_("field.description"),
    StepName.WHEN: N_("field.when"),
    StepName.URGENT: N_("field.urgent"),
}


def _data(turn: Turn, value: str) -> str:
    # Every button carries the draft's token, so a button from an older draft is recognised.
    return DraftChoice(turn.conv.draft.get("flow", ""), value).pack()


def _value(turn: Turn, data: str) -> str:
    """The step-level value of a button's data, or "" if it belongs to another draft."""
    pressed = read_draft_choice(data)
    return pressed.value if pressed and pressed.flow == turn.conv.draft.get("flow") else ""


def _cancel(turn: Turn) -> Option:
    return turn.option("cancel", _data(turn, "x"))


# --- prompts ---


def prompt_category(turn: Turn) -> Reply:
    """The categories as buttons, two to a row."""
    options = tuple(
        Option(c.name(turn.lang), _data(turn, f"c.{c.code}")) for c in turn.ctx.catalog.categories
    )
    return Reply(turn.t("ask.category"), (*options, _cancel(turn)), columns=2)


def _pages(turn: Turn) -> int:
    return -(-len(turn.ctx.catalog.areas) // AREAS_PER_PAGE)


def prompt_area(turn: Turn) -> Reply:
    """One page of communes and towns, with paging buttons."""
    pages = _pages(turn)
    page = min(max(int(turn.conv.draft.get("page", 0)), 0), pages - 1)
    shown = turn.ctx.catalog.areas[page * AREAS_PER_PAGE : (page + 1) * AREAS_PER_PAGE]
    options = [Option(a.name(turn.lang), _data(turn, f"a.{a.code}")) for a in shown]
    if page > 0:
        options.append(turn.option("page.prev", _data(turn, f"pg.{page - 1}")))
    if page < pages - 1:
        options.append(turn.option("page.next", _data(turn, f"pg.{page + 1}")))
    options.append(_cancel(turn))
    catalog = turn.ctx.catalog
    level = catalog.level_name(catalog.areas[0].depth, turn.lang) or turn.t("level.any")
    text = turn.t("ask.area", level=level, page=page + 1, pages=pages)
    return Reply(text, tuple(options), columns=2)


def prompt_place(turn: Turn) -> Reply:
    """Ask for a village or a map pin; skipping is fine."""
    return Reply(
        turn.t("ask.place"),
        (turn.option("skip", _data(turn, "skip")),),
        request_location=turn.t("share.location"),
    )


def prompt_description(turn: Turn) -> Reply:
    """Ask what happened; once something arrived, say what and offer the "when" buttons."""
    draft = turn.conv.draft
    texts, files = len(draft.get("texts", [])), len(draft.get("files", []))
    if not texts and not files:
        return Reply(turn.t("ask.description"))
    # The "when" buttons double as the Done button: one tap fewer for every tipster.
    got = turn.t(
        "got.piece",
        texts=turn.tn("count.messages", texts),
        files=turn.tn("count.files", files),
    )
    return Reply(got, _when_options(turn), columns=2)


def _when_options(turn: Turn) -> tuple[Option, ...]:
    return tuple(turn.option(label, _data(turn, f"w.{w}")) for w, label in WHEN.items())


def prompt_when(turn: Turn) -> Reply:
    """Ask when it happened."""
    return Reply(turn.t("ask.when"), _when_options(turn), columns=2)


def prompt_urgent(turn: Turn) -> Reply:
    """Ask whether someone is in danger now."""
    options = (turn.option("yes", _data(turn, "u.yes")), turn.option("no", _data(turn, "u.no")))
    return Reply(turn.t("ask.urgent"), options, columns=2)


def _place_text(turn: Turn, draft: dict[str, Any]) -> str:
    parts = [draft["place"]] if draft.get("place") else []
    if draft.get("lat") is not None:
        parts.append(turn.t("place.pin"))
    return ", ".join(parts) or turn.t("place.none")


def prompt_review(turn: Turn) -> Reply:
    """Show the whole tip and offer to send it (with or without contact), edit or cancel."""
    draft = turn.conv.draft
    catalog = turn.ctx.catalog
    category, area = catalog.category(draft["category"]), catalog.area(draft["area"])
    text = turn.t(
        "review",
        category=category.name(turn.lang) if category else draft["category"],
        area=area.name(turn.lang) if area else draft["area"],
        place=_place_text(turn, draft),
        when=turn.t(when_label(draft.get("when"))),
        urgent=turn.t("yes") if draft.get("urgent") else turn.t("no"),
        files=len(draft.get("files", [])),
        recipients=_recipients(turn, draft),
        text=_description(draft),
    )
    # The commune officer may know the people involved: the tipster can leave them out.
    if _top_only(draft):
        toggle = turn.option("toggle.everyone", _data(turn, "top"))
    else:
        police = catalog.top_police(turn.lang)
        toggle = Option(turn.t("toggle.top_only", police=police), _data(turn, "top"))
    options = (
        turn.option("send.contact", _data(turn, "s.contact")),
        turn.option("send.anonymous", _data(turn, "s.anonymous")),
        toggle,
        turn.option("edit", _data(turn, "edit")),
        _cancel(turn),
    )
    return Reply(text, options, columns=1)


def _top_only(draft: dict[str, Any]) -> bool:
    # Drafts begun before the map became a tree (migration 0013) keep their choice.
    return bool(draft.get("top_only", draft.get("district_only")))


def _recipients(turn: Turn, draft: dict[str, Any]) -> str:
    """Which police will read the tip, by name."""
    catalog = turn.ctx.catalog
    if _top_only(draft):
        return turn.t("review.recipients.top_only", police=catalog.top_police(turn.lang))
    police = ", ".join(catalog.police_of(draft["area"], turn.lang)) or catalog.top_police(turn.lang)
    return turn.t("review.recipients.all", police=police)


def prompt_edit(turn: Turn) -> Reply:
    """Ask which part of the tip to change."""
    options = tuple(turn.option(label, _data(turn, f"e.{f}")) for f, label in EDITABLE.items())
    return Reply(turn.t("ask.edit"), options, columns=2)


# --- answers ---


async def _advance(turn: Turn, draft: dict[str, Any], next_step: StepName) -> list[Reply]:
    """Go to the next step, or straight back to the review when the person was editing."""
    step = StepName.REVIEW if draft.get("editing") else next_step
    turn.goto(step, draft)
    return [STEPS[step].prompt(turn)]


async def _need_button(turn: Turn) -> list[Reply]:
    return [turn.say("use.buttons"), STEPS[turn.step].prompt(turn)]


async def answer_category(turn: Turn) -> list[Reply]:
    """Take the category and ask for the commune."""
    value = _value(turn, picked(turn.msg, prompt_category(turn).options))
    code = value.removeprefix("c.")
    if not value.startswith("c.") or turn.ctx.catalog.category(code) is None:
        return await _need_button(turn)
    return await _advance(turn, {**turn.draft, "category": code}, StepName.AREA)


def _area_by_words(turn: Turn, words: str) -> str:
    # Typing "an thuy" or "Xã An Thủy" picks the area even when it is on another page.
    code = _area_codes_by_words(turn.ctx.catalog).get(words)
    return _data(turn, f"a.{code}") if code else ""


@lru_cache(maxsize=4)
def _area_codes_by_words(catalog: Catalog) -> dict[str, str]:
    # Folding every commune's names costs more than the rest of the step: done once a catalog.
    return {
        typed_words(name): area.code for area in catalog.areas for name in catalog.typed_names(area)
    }


async def answer_area(turn: Turn) -> list[Reply]:
    """Take the commune (or turn the page) and ask for the place."""
    value = _value(turn, picked(turn.msg, prompt_area(turn).options, partial(_area_by_words, turn)))
    if value.startswith("pg.") and value[3:].isdigit():
        turn.goto(StepName.AREA, {**turn.draft, "page": int(value[3:])})
        return [replace(prompt_area(turn), in_place=True)]
    area = turn.ctx.catalog.area(value.removeprefix("a."))
    if not value.startswith("a.") or area is None:
        return await _need_button(turn)
    return await _advance(turn, {**turn.draft, "area": area.code}, StepName.PLACE)


async def answer_place(turn: Turn) -> list[Reply]:
    """Take a place name, a pin, or a skip, and ask what happened."""
    msg, draft = turn.msg, turn.draft
    if msg.kind is Kind.LOCATION and msg.location is not None:
        draft.update(lat=msg.location.latitude, lon=msg.location.longitude)
        # Without a word about it, the person cannot tell whether the pin arrived.
        return [turn.say("got.location"), *await _advance(turn, draft, StepName.DESCRIPTION)]
    if _value(turn, picked(msg, prompt_place(turn).options)) == "skip":
        draft.update(place=None, lat=None, lon=None)
    elif msg.kind is Kind.TEXT and msg.text.strip():
        if len(msg.text.strip()) > PLACE_CHARS:
            return [turn.say("place.too_long", limit=PLACE_CHARS), prompt_place(turn)]
        draft["place"] = msg.text.strip()
    else:
        return [turn.say("no.text"), prompt_place(turn)]
    return await _advance(turn, draft, StepName.DESCRIPTION)


def _description(draft: dict[str, Any]) -> str:
    return "\n\n".join(draft.get("texts", []))


async def answer_description(turn: Turn) -> list[Reply]:
    """Collect messages and files until the person says when it happened."""
    msg, draft, limits = turn.msg, turn.draft, turn.ctx.limits
    has_content = bool(draft.get("texts") or draft.get("files"))
    # Here a typed line is the story: only an option's whole words or number end it.
    when = has_content and picked(msg, _when_options(turn), beginnings=False)
    if msg.kind is Kind.CHOICE or when:
        if not has_content:
            return [turn.say("description.empty")]
        return await answer_when(turn)
    if msg.kind is Kind.LOCATION and msg.location is not None:
        draft.update(lat=msg.location.latitude, lon=msg.location.longitude)
        turn.goto(StepName.DESCRIPTION, draft)
        return [turn.say("got.location"), prompt_description(turn)]
    piece = (msg.text if msg.kind is Kind.TEXT else msg.caption).strip()
    files = [[m.kind.value, m.ref] for m in msg.media]
    if not piece and not files:
        return [turn.say("no.text"), prompt_description(turn)]
    texts: list[str] = list(draft.get("texts", []))
    # What does not fit is cut, never refused: what the person wrote first matters most.
    kept = piece[: _room(texts, limits.description_chars)].rstrip()
    notes = [] if kept == piece else [_cut_note(turn, kept)]
    if len(draft.get("files", [])) + len(files) > limits.attachments:
        notes.append(Reply(turn.tn("description.too_many_files", limits.attachments)))
        files = []
    draft["texts"] = [*texts, kept] if kept else texts
    draft["files"] = [*draft.get("files", []), *files]
    turn.goto(StepName.DESCRIPTION, draft)
    if files and any(media.original for media in msg.media):
        notes.append(turn.say("media.original"))
    return [*notes, prompt_description(turn)]


def _room(texts: list[str], limit: int) -> int:
    """How many more characters the story takes (a new message begins after a blank line)."""
    return max(limit - len("\n\n".join(texts)) - (2 if texts else 0), 0)


def _cut_note(turn: Turn, kept: str) -> Reply:
    """What a message too long for the story left in it: its first characters, or nothing."""
    limit = decimal(turn.lang, turn.ctx.limits.description_chars, 0)
    if not kept:
        return turn.say("description.full", limit=limit)
    end = " ".join(kept[-CUT_ECHO_CHARS:].split())
    chars = decimal(turn.lang, len(kept), 0)
    return Reply(turn.tn("description.cut", len(kept), limit=limit, chars=chars, end=end))


async def answer_when(turn: Turn) -> list[Reply]:
    """Take when it happened and ask whether it is urgent."""
    value = _value(turn, picked(turn.msg, _when_options(turn)))
    if value.removeprefix("w.") not in WHEN or not value.startswith("w."):
        return await _need_button(turn)
    return await _advance(turn, {**turn.draft, "when": value[2:]}, StepName.URGENT)


async def answer_urgent(turn: Turn) -> list[Reply]:
    """Take the urgency; 'yes' reminds of 113 before the review."""
    value = _value(turn, picked(turn.msg, prompt_urgent(turn).options))
    if value not in ("u.yes", "u.no"):
        return await _need_button(turn)
    urgent = value == "u.yes"
    replies = await _advance(turn, {**turn.draft, "urgent": urgent}, StepName.REVIEW)
    return [turn.say("urgent.113"), *replies] if urgent else replies


async def answer_review(turn: Turn) -> list[Reply]:
    """Send the tip, or go edit it, or drop it."""
    value = _value(turn, picked(turn.msg, prompt_review(turn).options))
    if value == "edit":
        turn.goto(StepName.EDIT)
        return [prompt_edit(turn)]
    if value == "top":
        turn.goto(StepName.REVIEW, {**turn.draft, "top_only": not _top_only(turn.draft)})
        return [replace(prompt_review(turn), in_place=True)]
    if value == "x":
        turn.reset()
        return [turn.say("cancelled")]
    if value in ("s.contact", "s.anonymous"):
        return await submit(turn, contact=value == "s.contact")
    return await _need_button(turn)


async def answer_edit(turn: Turn) -> list[Reply]:
    """Open the chosen part of the tip again."""
    chosen = _value(turn, picked(turn.msg, prompt_edit(turn).options)).removeprefix("e.")
    if chosen not in EDITABLE:
        return await _need_button(turn)
    field = StepName(chosen)
    draft = {**turn.draft, "editing": True}
    if field is StepName.DESCRIPTION:
        draft.update(texts=[], files=[])
    turn.goto(field, draft)
    return [STEPS[field].prompt(turn)]


def _area_buttons(turn: Turn) -> set[str]:
    pages = {_data(turn, f"pg.{n}") for n in range(_pages(turn))}
    return pages | {_data(turn, f"a.{area.code}") for area in turn.ctx.catalog.areas}


def _when_buttons(turn: Turn) -> set[str]:
    return {option.data for option in _when_options(turn)}


STEPS: dict[StepName, Step] = {
    StepName.CATEGORY: Step(prompt_category, answer_category),
    StepName.AREA: Step(prompt_area, answer_area, _area_buttons),
    StepName.PLACE: Step(prompt_place, answer_place),
    StepName.DESCRIPTION: Step(prompt_description, answer_description, _when_buttons),
    StepName.WHEN: Step(prompt_when, answer_when),
    StepName.URGENT: Step(prompt_urgent, answer_urgent),
    StepName.REVIEW: Step(prompt_review, answer_review),
    StepName.EDIT: Step(prompt_edit, answer_edit),
}


async def start_tip(turn: Turn) -> list[Reply]:
    """Begin a new tip, or show the one already in progress."""
    if turn.step in STEPS:
        return [turn.say("resume"), STEPS[turn.step].prompt(turn)]
    refusal = await _tip_limit_reached(turn)
    if refusal:
        return [refusal]
    turn.goto(StepName.CATEGORY, {"flow": new_draft_token()})
    return [prompt_category(turn)]


def _hour(turn: Turn) -> Any:
    return turn.ctx.now.replace(minute=0, second=0, microsecond=0)


async def _tip_limit_reached(turn: Turn) -> Reply | None:
    limit = turn.ctx.limits.tips_per_hour
    sent = await get_action_count(
        turn.db, sender=turn.msg.sender, action="tip", window_start=_hour(turn)
    )
    if sent < limit:
        return None
    until = (_hour(turn) + timedelta(hours=1)).astimezone(turn.ctx.timezone)
    return Reply(turn.tn("rate.tips", limit, until=until.strftime("%H:%M")))


async def submit(turn: Turn, *, contact: bool) -> list[Reply]:
    """Store the tip, give the tipster a code and passphrase, and keep the way back if allowed."""
    refusal = await _tip_limit_reached(turn)
    if refusal:
        return [refusal]
    draft, ctx = turn.draft, turn.ctx
    code = new_code()
    while await code_exists(turn.db, code):
        code = new_code()
    passphrase = new_passphrase()
    tip = await add_tip(
        turn.db,
        NewTip(
            code=code,
            category=draft["category"],
            area=draft["area"],
            place=draft.get("place"),
            latitude=draft.get("lat"),
            longitude=draft.get("lon"),
            description=_description(draft),
            occurred=draft.get("when", "unknown"),
            urgent=bool(draft.get("urgent")),
            language=turn.lang,
            passphrase_hash=ctx.sealer.seal_passphrase(normalise_passphrase(passphrase), code=code),
            attachments=tuple((kind, ref) for kind, ref in draft.get("files", [])),
            # A draft is kept per channel and sender, so its files came by this channel.
            channel=turn.msg.channel,
            top_only=_top_only(draft),
        ),
        now=ctx.now,
    )
    await alert_new_tip(turn.db, ctx, tip)
    if contact:
        await add_contact(
            turn.db,
            tip_id=tip.id,
            channel=turn.msg.channel,
            sealed=ctx.sealer.seal(f"{turn.msg.channel}:{turn.msg.chat}", bound_to=code),
            expires_at=ctx.now + timedelta(days=ctx.limits.contact_retention_days),
        )
    await count_action(turn.db, sender=turn.msg.sender, action="tip", window_start=_hour(turn))
    turn.reset()
    shown = show_code(code)
    follow = N_("receipt.contact") if contact else N_("receipt.anonymous")
    receipt = turn.t("receipt", code=shown, passphrase=passphrase)
    return [Reply(f"{receipt}\n\n{turn.t(follow, code=shown)}")]
