"""The resident's side, through the real unit of work on a real database."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot import runtime as runtime_module
from bot.runtime import Runtime
from bot.scheduler import run_passphrase_hashing
from handlers.common.codes import CODE_ALPHABET, parse_code
from handlers.common.housekeeping import housekeeping
from handlers.common.notices import change_status
from handlers.common.sealing import Sealer, check_passphrase
from handlers.common.texts import text
from handlers.common.types import Kind, PassphraseCheck
from handlers.conversation.buttons import ForgetChoice
from handlers.tips.lookups import checked
from handlers.tips.passphrases import hash_sealed
from storage.models import (
    Attachment,
    Contact,
    Conversation,
    PassphraseTries,
    Tip,
    TipEvent,
    TipStatus,
)
from storage.tips import get_tip, replace_passphrases, sealed_passphrases
from tests.conftest import MINIMAL_TIP, FakeClock, Person, file_minimal_tip, file_tip, receipt
from tests.messages import says
from tests.test_officers import officer, outbox_to


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.db.transaction() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def only_tip(runtime: Runtime) -> Tip:
    async with runtime.db.transaction() as db:
        tips = list(await db.scalars(select(Tip)))
    assert len(tips) == 1
    return tips[0]


async def test_start_explains_what_is_stored_and_113(person: Person) -> None:
    await person.send("/start")
    assert person.shows("start")
    # the wording itself is the point: whatever the words, the emergency number is named
    assert "113" in person.said()
    labels = [o.label for o in person.options()]
    menu = ("menu.tip", "menu.status", "menu.help", "menu.lang")
    assert labels == [text("vi", key) for key in menu]


async def test_minimal_tip_takes_seven_steps_after_tip(person: Person) -> None:
    await person.send("/tip")
    for how, what in MINIMAL_TIP:
        assert not person.shows("receipt")
        await (person.press(what) if how == "press" else person.send(what))
    assert len(MINIMAL_TIP) <= 7 and person.shows("receipt")
    code, passphrase = receipt(person)
    assert parse_code(code) is not None and code[4] == "-"
    assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
    assert len(passphrase.replace(" ", "")) == 8
    tip = await only_tip(person.runtime)
    assert (tip.category, tip.area, tip.occurred, tip.urgent) == (
        "drugs",
        "kien-giang",
        "today",
        False,
    )
    assert tip.description == "Có người bán ma túy ở cuối ngõ"
    assert tip.status is TipStatus.RECEIVED
    assert await count(person.runtime, TipEvent) == 1
    assert await count(person.runtime, Contact) == 0


async def test_full_tip_with_place_pin_photos_urgent_and_contact(person: Person) -> None:
    await person.send("/tip")
    await person.press("Trộm cắp")
    await person.press("Tiếp")  # second page of communes
    assert any(says(reply.text, "ask.area", page=2, pages=3) for reply in person.last)
    assert person.last[0].in_place
    await person.press("Ngư Thủy Bắc")
    await person.send("Thôn Tân Hải, gần chợ")
    await person.send("Mất xe máy tối qua.")
    await person.photo("photo-file-1", caption="Biển số 73")
    await person.pin(17.2, 106.8)
    await person.send("Người lạ đi xe màu đỏ.")
    await person.press("Đang/vừa")
    await person.press("Có")
    assert says(person.last[0].text, "urgent.113")
    assert person.shows("review", urgent=text("vi", "yes"))
    await person.press("cho phép")
    code, _ = receipt(person)
    assert person.shows("receipt.contact", code=code)
    tip = await only_tip(person.runtime)
    assert tip.code == parse_code(code)
    assert tip.place == "Thôn Tân Hải, gần chợ"
    assert (tip.latitude, tip.longitude) == (17.2, 106.8)
    assert tip.urgent and tip.occurred == "now"
    assert tip.description == "Mất xe máy tối qua.\n\nBiển số 73\n\nNgười lạ đi xe màu đỏ."
    assert await count(person.runtime, Attachment) == 1
    assert await count(person.runtime, Contact) == 1


async def test_review_edit_changes_one_part_and_returns_to_review(person: Person) -> None:
    await person.send("/tip")
    await person.press("Cờ bạc")
    await person.press("Kiến Giang")
    await person.press("Bỏ qua")
    await person.send("Đánh bạc ở quán cà phê")
    await person.press("Mấy hôm trước")
    await person.press("Không")
    await person.press("Sửa")
    await person.press("Loại việc")
    await person.press("Khác")
    assert person.shows("review", category="Khác")
    await person.press("Sửa")
    await person.press("Nội dung")
    await person.send("Nội dung mới")
    await person.press("Hôm nay")
    # The story is the placeholder {text}, a name shows() cannot take: the value is checked.
    assert person.shows("review", text="Nội dung mới")
    await person.press("không cho liên hệ")
    tip = await only_tip(person.runtime)
    assert (tip.category, tip.description, tip.occurred) == ("other", "Nội dung mới", "today")


async def test_cancel_works_at_every_step(person: Person) -> None:
    path = ["Ma túy", "Kiến Giang", "Bỏ qua", "text:Chuyện gì đó", "Hôm nay", "Không"]
    for stop_after in range(len(path) + 1):
        await person.send("/tip")
        for action in path[:stop_after]:
            if action.startswith("text:"):
                await person.send(action[5:])
            else:
                await person.press(action)
        await person.send("/cancel")
        assert person.said() == text("vi", "cancelled")
    assert await count(person.runtime, Tip) == 0
    await person.send("/cancel")
    assert person.shows("cancel.nothing")


async def test_cancel_button_on_a_step(person: Person) -> None:
    await person.send("/tip")
    await person.press("Hủy")
    assert person.shows("cancelled")


async def test_typed_choices_work_without_accents_or_by_number(person: Person) -> None:
    await person.send("/tip")
    await person.send("ma tuy")
    assert person.shows("ask.area")
    await person.send("ngu thuy nam")  # on page 3, typed from page 1
    assert person.shows("ask.place")
    await person.send("bo qua")
    await person.send("Nội dung")
    await person.send("2")  # "Hôm nay" by its number
    assert person.shows("ask.urgent")


async def test_a_typed_beginning_picks_an_option_as_on_zalo(person: Person) -> None:
    """One rule for typed answers on every channel (handlers/common/matching.py)."""
    await person.send("/tip")
    await person.send("kh")  # too short to mean anything: "Khai thác cát..." or "Khác"
    assert not person.shows("ask.area")
    await person.send("lua dao")  # "Lừa đảo (kể cả trên mạng)"
    assert person.shows("ask.area")


async def test_a_short_story_line_like_an_options_beginning_stays_in_the_story(
    person: Person,
) -> None:
    """While the story is being written, "Không" is part of it, not "Không rõ" (when)."""
    for words in ("/tip", "ma tuy", "an thuy", "bo qua", "Có người bán hàng cấm"):
        await person.send(words)
    await person.send("Không")
    assert not person.shows("ask.urgent")  # still collecting, not at the urgency question
    await person.send("Hôm nay")  # the option's whole words end the story
    assert person.shows("ask.urgent")
    async with person.runtime.db.transaction() as db:
        draft = await db.scalar(select(Conversation.draft))
    assert draft is not None and draft["texts"] == ["Có người bán hàng cấm", "Không"]


async def test_a_step_this_version_does_not_know_is_taken_as_idle(person: Person) -> None:
    """A conversation left at a step an older version had still gets the menu, not an error."""
    await person.send("/tip")
    async with person.runtime.db.transaction() as db:
        await db.execute(update(Conversation).values(step="an.old.step"))
    await person.send("xin chào")
    assert person.said().startswith(text("vi", "idle.hint"))
    await person.send("/tip")
    assert person.shows("ask.category")


async def test_abandoned_draft_expires_after_24_hours(person: Person, clock: FakeClock) -> None:
    await person.send("/tip")
    await person.press("Ma túy")
    clock.advance(hours=23)
    await person.press("Kiến Giang")
    assert person.shows("ask.place")
    clock.advance(hours=24, seconds=1)
    await person.send("Thôn 2")
    assert person.shows("draft.expired", count=24)
    async with person.runtime.db.transaction() as db:
        conv = await db.scalar(select(Conversation))
    assert conv is not None and conv.step == "idle" and conv.draft == {}


async def test_the_expiry_notice_names_the_lifetime_the_operator_set(
    person: Person, clock: FakeClock
) -> None:
    person.runtime.limits = replace(person.runtime.limits, draft_ttl_hours=6)
    await person.send("/tip")
    await person.press("Ma túy")
    clock.advance(hours=5)
    await person.press("Kiến Giang")
    assert person.shows("ask.place")
    clock.advance(hours=6, seconds=1)
    await person.send("Thôn 2")
    assert person.shows("draft.expired", count=6) and "24" not in person.said()


async def test_language_switch_keeps_the_draft(person: Person) -> None:
    await person.send("/tip")
    await person.press("Ma túy")
    await person.send("/lang")
    await person.press("English")
    assert says(person.said(), "lang.done", lang="en")
    # In English now: the English message, and not the Vietnamese one.
    assert says(person.said(), "ask.area", lang="en") and not person.shows("ask.area")
    await person.press("Kiến Giang")
    assert says(person.said(), "ask.place", lang="en") and not person.shows("ask.place")


async def test_status_shows_history_and_public_note(person: Person, clock: FakeClock) -> None:
    code, passphrase = await file_minimal_tip(person)
    clock.advance(hours=2)
    async with person.runtime.db.transaction() as db:
        tip = await get_tip(db, str(parse_code(code)))
        assert tip is not None
        await change_status(
            db, person.runtime.context(), tip, status=TipStatus.VERIFYING, public_note="Đã cử người"
        )
    await person.send(f"/status {code.lower()}")
    assert person.shows("ask.passphrase", code=code)
    await person.send(passphrase.replace(" ", "-"))
    assert person.shows("status.view", code=code, status=text("vi", "status.verifying"))
    assert person.shows("status.history") and person.shows("status.received")
    assert person.shows("status.note", note="Đã cử người")
    assert person.shows("status.contact_off")


async def test_a_new_tips_passphrase_is_sealed_then_hashed_and_works_throughout(
    person: Person,
) -> None:
    code, passphrase = await file_minimal_tip(person)
    digits = passphrase.replace(" ", "")
    stored = (await only_tip(person.runtime)).passphrase_hash
    assert stored.startswith("sealed$") and digits not in stored
    await person.send(f"/status {code}")
    await person.send(passphrase)  # before the background hash: the sealed copy answers
    assert person.shows("status.view", code=code)

    assert await run_passphrase_hashing(person.runtime) == 1
    hashed = (await only_tip(person.runtime)).passphrase_hash
    assert "$" in hashed and not hashed.startswith("sealed$") and digits not in hashed
    assert check_passphrase(digits, hashed)
    assert await run_passphrase_hashing(person.runtime) == 0  # nothing left to hash
    await person.send(f"/status {code}")
    await person.send(passphrase)
    assert person.shows("status.view", code=code)
    await person.send(f"/status {code}")
    await person.send("0000 0000")
    assert person.shows("bad.passphrase")


async def test_a_hash_is_not_stored_over_a_passphrase_that_changed_meanwhile(
    person: Person,
) -> None:
    await file_minimal_tip(person)
    async with person.runtime.db.reading() as db:
        pending = await sealed_passphrases(db, limit=10)
    results = await hash_sealed(person.runtime.sealer, pending)
    async with person.runtime.db.transaction() as db:
        await db.execute(update(Tip).values(passphrase_hash="sealed$changed"))
    async with person.runtime.db.transaction() as db:
        assert await replace_passphrases(db, results) == 0
    assert (await only_tip(person.runtime)).passphrase_hash == "sealed$changed"


async def test_a_sealed_passphrase_that_cannot_be_opened_is_retired_not_retried(
    person: Person,
) -> None:
    code, passphrase = await file_minimal_tip(person)
    async with person.runtime.db.transaction() as db:
        # As if TIPLINE_SECRET_KEY had changed since the tip was filed.
        moved = Sealer("another-secret-" + "k" * 40).seal_passphrase("12345678", code="X")
        await db.execute(update(Tip).values(passphrase_hash=moved))
    assert await run_passphrase_hashing(person.runtime) == 1
    assert await run_passphrase_hashing(person.runtime) == 0
    await person.send(f"/status {code}")
    await person.send(passphrase)
    assert person.shows("bad.passphrase")


async def test_status_from_the_menu_asks_for_the_code(person: Person) -> None:
    code, passphrase = await file_minimal_tip(person)
    await person.send("/start")
    await person.press("Xem tin")
    assert person.shows("ask.code")
    await person.send(code.replace("-", " "))
    await person.send(passphrase)
    assert person.shows("status.view", code=code)


async def test_a_wrong_passphrase_is_asked_again_with_the_tries_left(person: Person) -> None:
    """Issue 17: after a wrong passphrase, the right one typed next got the idle menu."""
    code, passphrase = await file_minimal_tip(person)
    await person.send(f"/status {code}")
    await person.send("1111 2222")
    assert person.shows("bad.passphrase", count=4, code=code)
    await person.send(passphrase)
    assert person.shows("status.view", code=code)
    await person.send(f"/status {code}")
    await person.send("1111 2222")  # the right one forgave the earlier wrong one
    assert person.shows("bad.passphrase", count=4, code=code)


async def test_what_cannot_be_a_passphrase_costs_no_try(person: Person) -> None:
    code, passphrase = await file_minimal_tip(person)
    await person.send(f"/status {code}")
    for typed in ("tôi quên mật khẩu", "1234", code):
        await person.send(typed)
        assert person.shows("passphrase.digits", code=code)
    await person.photo("photo-1")
    assert person.shows("passphrase.digits", code=code)
    await person.send("0000 0000")
    assert person.shows("bad.passphrase", count=4)
    await person.send(passphrase)
    assert person.shows("status.view", code=code)


async def test_five_wrong_passphrases_lock_and_the_code_alone_then_says_so(
    person: Person, clock: FakeClock
) -> None:
    code, passphrase = await file_minimal_tip(person)
    await person.send(f"/status {code}")
    for left in (4, 3, 2, 1):
        await person.send("0000 0000")
        assert person.shows("bad.passphrase", count=left, code=code)
    await person.send("0000 0000")
    assert person.shows("locked", code=code) and not person.shows("bad.passphrase")
    await person.send(f"/status {code}")  # said before a passphrase is asked for
    assert person.shows("locked", code=code) and not person.shows("ask.passphrase")
    await person.send(passphrase)  # no longer at the passphrase step: nothing is checked
    assert not person.shows("status.view")
    clock.advance(minutes=61)
    await person.send(f"/status {code}")
    assert person.shows("ask.passphrase", code=code)
    await person.send(passphrase)
    assert person.shows("status.view", code=code, status=text("vi", "status.received"))


async def test_a_stranger_who_knows_the_code_cannot_lock_the_tipster_out(
    runtime: Runtime,
) -> None:
    tipster, stranger = Person(runtime, user="t", chat="t"), Person(runtime, user="s", chat="s")
    code, passphrase = await file_minimal_tip(tipster)
    await stranger.send(f"/status {code}")
    for _ in range(5):
        await stranger.send("0000 0000")
    assert stranger.shows("locked", code=code)
    await stranger.send(f"/status {code}")
    assert stranger.shows("locked", code=code)
    await tipster.send(f"/status {code}")
    assert tipster.shows("ask.passphrase", code=code)
    await tipster.send("1111 1111")
    assert tipster.shows("bad.passphrase", count=4)  # the stranger's tries are not theirs
    await tipster.send(passphrase)
    assert tipster.shows("status.view", code=code)


async def test_wrong_passphrases_through_two_processes_at_once_all_count(
    runtime: Runtime, other: Runtime
) -> None:
    tipster = Person(runtime, user="t", chat="t")
    code, _ = await file_minimal_tip(tipster)
    here, there = Person(runtime, user="s", chat="s"), Person(other, user="s", chat="s")
    await here.send(f"/status {code}")
    tries = runtime.limits.passphrase_attempts
    # Every guess at once, half through each process: none may be lost between them.
    await asyncio.gather(
        *((here if n % 2 else there).send("0000 0000") for n in range(tries)),
        return_exceptions=False,
    )
    await here.send(f"/status {code}")
    assert here.shows("locked", code=code)


async def test_many_accounts_guessing_together_lock_the_tip_for_everyone(
    runtime: Runtime, clock: FakeClock
) -> None:
    tipster = Person(runtime, user="t", chat="t")
    code, passphrase = await file_minimal_tip(tipster)
    ceiling, each = runtime.limits.passphrase_attempts_per_tip, runtime.limits.passphrase_attempts
    for n in range(ceiling // each):
        guesser = Person(runtime, user=f"g{n}", chat=f"g{n}")
        await guesser.send(f"/status {code}")
        for _ in range(each):
            await guesser.send("0000 0000")
        assert guesser.shows("locked", code=code)
    await tipster.send(f"/status {code}")
    assert tipster.shows("locked", code=code) and not tipster.shows("ask.passphrase")
    newcomer = Person(runtime, user="g-new", chat="g-new")
    await newcomer.send(f"/status {code}")
    assert newcomer.shows("locked", code=code)
    clock.advance(minutes=61)
    await tipster.send(f"/status {code}")
    await tipster.send(passphrase)
    assert tipster.shows("status.view", code=code)


async def test_an_unknown_code_counts_down_like_a_real_one(runtime: Runtime) -> None:
    """The tries left and the lock must not tell a guesser which codes exist."""
    tipster, guesser = Person(runtime, user="t", chat="t"), Person(runtime, user="g", chat="g")
    real, _ = await file_minimal_tip(tipster)

    async def five_guesses_and_the_code_again(code: str) -> list[str]:
        await guesser.send(f"/status {code}")
        seen = []
        for _ in range(5):
            await guesser.send("0000 0000")
            seen.append(guesser.said().replace(code, "CODE"))
        await guesser.send(f"/status {code}")
        return [*seen, guesser.said().replace(code, "CODE")]

    answers = await five_guesses_and_the_code_again(real)
    assert answers == await five_guesses_and_the_code_again("ABCD-EFGH")
    assert says(answers[0], "bad.passphrase", count=4) and says(answers[-1], "locked")


async def test_passphrase_tries_name_neither_the_sender_nor_the_tip_and_are_pruned(
    runtime: Runtime, clock: FakeClock
) -> None:
    tipster = Person(runtime, user="t", chat="t")
    code, _ = await file_minimal_tip(tipster)
    await tipster.send(f"/status {code}")
    await tipster.send("0000 0000")
    async with runtime.db.transaction() as db:
        (row,) = (await db.scalars(select(PassphraseTries))).all()
        sender = tipster.incoming(Kind.TEXT).sender
        assert sender not in row.digest and str(parse_code(code)) not in row.digest
        clock.advance(minutes=61)
        await housekeeping(db, runtime.context())
        assert await db.scalar(select(func.count()).select_from(PassphraseTries)) == 0


async def test_unknown_code_and_malformed_code(person: Person) -> None:
    await person.send("/status ABCD-EFGH")
    await person.send("1234 5678")
    assert person.shows("bad.passphrase")
    await person.send("/status hello")
    assert person.shows("bad.code")
    await person.send("ABCD-EFG0")
    assert person.shows("bad.code")
    await person.send("/cancel")
    assert person.shows("cancelled")


async def test_status_in_the_middle_of_a_draft_returns_to_it(person: Person) -> None:
    code, passphrase = await file_minimal_tip(person)
    await person.send("/tip")
    await person.press("Trộm cắp")
    await person.send(f"/status {code}")
    await person.send(passphrase)
    assert person.shows("status.view", code=code) and person.shows("ask.area")
    await person.press("Kiến Giang")
    assert person.shows("ask.place")


async def test_leaving_a_lookup_for_a_new_command_keeps_the_draft(person: Person) -> None:
    await person.send("/tip")
    await person.press("Trộm cắp")
    await person.send("/status")
    await person.send("/tip")
    assert person.shows("resume") and person.shows("ask.area")
    await person.send("/status ABCD-EFGH")
    await person.send("/start")
    assert person.shows("ask.area")
    await person.send("/forget ABCD-EFGH")
    await person.choose("beef:c.drugs")  # a button from an older draft, mid-lookup
    assert person.shows("ask.passphrase", code="ABCD-EFGH")


async def test_forget_from_the_same_chat_asks_once_and_needs_no_passphrase(
    person: Person,
) -> None:
    code, passphrase = await file_minimal_tip(person, contact=True)
    await person.send(f"/forget {code}")
    assert person.shows("forget.confirm", code=code) and len(person.options()) == 2
    assert await count(person.runtime, Contact) == 1  # nothing deleted before the yes
    await person.press("Có, xóa")
    assert person.shows("forget.done", code=code)
    assert await count(person.runtime, Contact) == 0
    await person.send(f"/forget {code}")
    await person.send(passphrase)
    assert person.shows("forget.none", code=code)


async def test_saying_no_or_cancelling_the_forget_question_keeps_everything(
    person: Person,
) -> None:
    """Issue 17: /forget deleted at once; now it asks, and every way of not saying yes keeps."""
    code, _ = await file_minimal_tip(person, contact=True)
    await person.send(f"/forget {code}")
    await person.press("giữ lại")
    assert person.shows("forget.kept", code=code)
    for not_yes in ("Không", "/cancel"):
        await person.send(f"/forget {code}")
        await person.send(not_yes)
        assert not person.shows("forget.done")
    await person.send(f"/forget {code}")
    await person.send("ok?")  # neither yes nor no: asked again
    assert person.shows("use.buttons") and person.shows("forget.confirm", code=code)
    await person.send("/start")  # leaving the question deletes nothing either
    assert await count(person.runtime, Contact) == 1


async def test_the_forget_question_takes_typed_answers_and_no_old_button(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=True)
    await person.send(f"/forget {code}")
    old_yes = person.button("Có, xóa").data
    await person.send("không")
    assert person.shows("forget.kept", code=code)
    await person.choose(old_yes)  # under a question no longer asked
    assert person.shows("forget.stale") and await count(person.runtime, Contact) == 1
    await person.send(f"/forget {code}")
    await person.choose(ForgetChoice("ABCDEFGH", "yes").pack())  # another tip's, forged
    assert person.shows("forget.stale") and await count(person.runtime, Contact) == 1
    await person.send("co")  # still asked; "có", unaccented
    assert person.shows("forget.done", code=code) and await count(person.runtime, Contact) == 0


async def test_forgetting_in_the_middle_of_a_draft_returns_to_it(person: Person) -> None:
    code, _ = await file_minimal_tip(person, contact=True)
    await person.send("/tip")
    await person.press("Trộm cắp")
    await person.send(f"/forget {code}")
    await person.press("Có, xóa")
    assert person.shows("forget.done", code=code) and person.shows("ask.area")


async def test_forget_from_another_chat_needs_the_passphrase(runtime: Runtime) -> None:
    tipster = Person(runtime, user="a", chat="chat-a")
    other = Person(runtime, user="b", chat="chat-b")
    code, passphrase = await file_minimal_tip(tipster, contact=True)
    await other.send(f"/forget {code}")
    assert other.shows("ask.passphrase", code=code)
    await other.send("9999 9999")
    assert await count(runtime, Contact) == 1
    await other.send(passphrase)
    assert other.shows("forget.confirm", code=code)
    await other.send("1")  # the first option by its number
    assert other.shows("forget.done", code=code)
    assert await count(runtime, Contact) == 0


async def test_a_slow_passphrase_check_does_not_hold_up_other_chats(runtime: Runtime) -> None:
    if not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL has no single writer to hold up")
    tipster = Person(runtime, user="t1", chat="t1")
    code, passphrase = await file_minimal_tip(tipster)
    assert await run_passphrase_hashing(runtime) == 1  # a real scrypt hash: ~50 ms to check
    await tipster.send(f"/status {code}")
    other = Person(runtime, user="o1", chat="o1")
    finished: list[str] = []

    async def check() -> None:
        await tipster.send(passphrase)
        finished.append("check")

    async def meanwhile() -> None:
        await asyncio.sleep(0.01)  # while the passphrase is being hashed
        await other.send("/start")
        finished.append("other")

    await asyncio.gather(check(), meanwhile())
    assert finished == ["other", "check"]  # the check did not hold SQLite's writer
    assert tipster.shows("status.view", code=code)


async def test_guesses_at_a_locked_tip_or_beyond_the_message_limit_cost_no_hash(
    person: Person, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, passphrase = await file_minimal_tip(person)
    assert await run_passphrase_hashing(person.runtime) == 1
    hashed_ahead: list[str] = []

    def counted(sealer: Sealer, check: PassphraseCheck) -> PassphraseCheck:
        hashed_ahead.append(check.typed)
        return checked(sealer, check)

    monkeypatch.setattr(runtime_module, "checked", counted)

    async def within_a_minute(*lines: str) -> None:
        clock.advance(minutes=1)
        clock.now = clock.now.replace(second=0)
        for line in lines:  # no clock advance: every line in the same rate window
            msg = (
                person.incoming(Kind.COMMAND, command=line[1:].split()[0], args=line.split()[-1])
                if line.startswith("/")
                else person.incoming(Kind.TEXT, text=line)
            )
            person.last = await person.runtime.handle(msg)

    person.runtime.limits = replace(person.runtime.limits, messages_per_minute=3)
    await within_a_minute(f"/status {code}", "/help", passphrase)
    assert hashed_ahead == [passphrase.replace(" ", "")]  # within the limit: hashed ahead
    assert person.shows("status.view", code=code)
    await within_a_minute(f"/status {code}", "/help", "/help", passphrase)
    assert len(hashed_ahead) == 1  # the fourth message of the minute: no hash at all
    assert person.shows("rate.messages")

    person.runtime.limits = replace(person.runtime.limits, messages_per_minute=100)
    await within_a_minute(f"/status {code}")
    async with person.runtime.db.transaction() as db:  # locked meanwhile, by guessers elsewhere
        await db.execute(update(Tip).values(locked_until=clock.now + timedelta(hours=1)))
    await within_a_minute(passphrase)
    assert person.shows("locked")
    assert len(hashed_ahead) == 1  # locked: refused without hashing


async def test_control_bidi_and_escape_characters_never_reach_the_tip_or_the_officer(
    runtime: Runtime,
) -> None:
    district = await officer(runtime, "Huyen", None)
    await file_tip(
        Person(runtime, user="r1", chat="r1"),
        place="Chợ\u202e Kiến\x00 Giang",
        story="Mất \x1b[31mxe máy\x1b[0m\x07 màu đỏ\u2066\n\tbiển số\x9b 73\u200f",
        urgent=True,
    )
    tip = await only_tip(runtime)
    assert tip.place == "Chợ Kiến Giang"
    assert tip.description == "Mất xe máy màu đỏ\n\tbiển số 73"  # newline and tab kept
    (alert,) = await outbox_to(runtime, officer=True)
    assert "Mất xe máy màu đỏ biển số 73" in alert.text
    await district.send(f"/tip {tip.code}")
    shown = district.said()
    assert "Chợ Kiến Giang" in shown and "Mất xe máy màu đỏ\n\tbiển số 73" in shown


async def test_editing_the_place_from_the_review_returns_to_the_review(person: Person) -> None:
    """Issue 17: a new place used to be followed by "when" again, as if the story were new."""
    await person.send("/tip")
    for how, what in MINIMAL_TIP[:-1]:
        await (person.press(what) if how == "press" else person.send(what))
    await person.press("Sửa")
    await person.press("Địa điểm")
    assert person.shows("ask.place")
    await person.send("Thôn 3, gần cầu")
    assert person.shows("review", place="Thôn 3, gần cầu") and not person.shows("got.piece")
    await person.press("Sửa")
    await person.press("Địa điểm")
    await person.pin(17.2, 106.8)
    assert person.shows("review") and not person.shows("got.piece")
    await person.press("không cho liên hệ")
    tip = await only_tip(person.runtime)
    assert tip.place == "Thôn 3, gần cầu" and (tip.latitude, tip.longitude) == (17.2, 106.8)
    assert tip.description == "Có người bán ma túy ở cuối ngõ" and tip.occurred == "today"


async def test_a_pin_at_the_place_step_is_acknowledged(person: Person) -> None:
    """Issue 17: a pin sent for the place got no word, only the next question."""
    await person.send("/tip")
    await person.press("Ma túy")
    await person.press("Kiến Giang")
    await person.pin(17.21, 106.79)
    assert says(person.last[0].text, "got.location") and person.shows("ask.description")
    await person.send("Có người bán ma túy")
    await person.press("Hôm nay")
    await person.press("Không")
    assert person.shows("review", place=text("vi", "place.pin"))
    await person.press("không cho liên hệ")
    tip = await only_tip(person.runtime)
    assert (tip.place, tip.latitude, tip.longitude) == (None, 17.21, 106.79)
