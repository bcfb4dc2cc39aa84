"""Buttons: one codec writes and reads them; old and forged ones are handled safely."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.conversation.buttons import (
    CALLBACK_DATA_BYTES,
    Acknowledge,
    AlertsChoice,
    AnswerQuestion,
    AskTipster,
    AssignTo,
    Button,
    Checkpoint,
    ChooseAssignee,
    CloseTip,
    CommentMissed,
    ConfirmStatus,
    DigestChoice,
    DraftChoice,
    EndShift,
    ForgetChoice,
    Incident,
    IncidentCategory,
    InternalNote,
    InviteChoice,
    KeepStatus,
    LanguageChoice,
    MenuChoice,
    NextTip,
    OpenTip,
    PatrolsReport,
    PublicNote,
    QuietShift,
    RemoveMember,
    SetStatus,
    TipList,
    new_draft_token,
    read_button,
    read_draft_choice,
)
from storage.models import TipEvent, TipStatus
from tests.conftest import Person, file_tip
from tests.test_officers import officer, tip_id

# The data of buttons already sitting in people's chats: they must keep meaning the same thing.
SENT_BEFORE: dict[str, Button] = {
    "o:open:12": OpenTip(12),
    "o:ls:overdue:3": TipList("overdue", 3),
    "o:st:verifying:12": SetStatus("verifying", 12),
    "o:cl:closed_spam:12": CloseTip("closed_spam", 12),
    "o:sty:handled:12": ConfirmStatus("handled", 12),
    "o:stn:12": KeepStatus(12),
    "o:nx:1:12": NextTip(1, 12),
    "o:ask:12": AskTipster(12),
    "o:pn:12": PublicNote(12),
    "o:in:12": InternalNote(12),
    "o:ack:12": Acknowledge(12),
    "o:as:12": ChooseAssignee(12),
    "o:asg:4:12": AssignTo(4, 12),
    "o:al:urgent": AlertsChoice("urgent"),
    "o:inv:area:an-thuy": InviteChoice("area", "an-thuy"),
    "o:pm:7": CommentMissed(7),
    "o:prm:7": RemoveMember(7),
    "o:pts:week": PatrolsReport("week"),
    "o:dg:now": DigestChoice("now"),
    "t:ans:31": AnswerQuestion(31),
    "t:fg:ABCDEFGH:yes": ForgetChoice("ABCDEFGH", "yes"),
    "p:cp": Checkpoint(),
    "p:inc": Incident(),
    "p:cat:theft": IncidentCategory("theft"),
    "p:end": EndShift(),
    "p:quiet": QuietShift(),
    "m:tip": MenuChoice("tip"),
    "l:vi": LanguageChoice("vi"),
}


@pytest.mark.parametrize(("data", "button"), SENT_BEFORE.items())
def test_a_button_reads_back_as_it_was_written(data: str, button: Button) -> None:
    assert read_button(data) == button
    assert button.pack() == data


def test_every_kind_of_button_is_covered() -> None:
    kinds = {type(button) for button in SENT_BEFORE.values()}
    assert kinds == set(Button._kinds.values())


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "o",
        "o:",
        "x:open:12",  # a namespace that does not exist
        "t:open:12",  # an officer's action under the tipster's namespace
        "p:cp:1",  # a value where the button has none
        "o:zz:12",  # an action that does not exist
        "o:open",  # the tip is missing
        "o:open:12:13",  # one value too many
        "o:open:",  # an empty value
        "o:open:abc",
        "o:open:-3",
        "o:open:²",  # a digit to str.isdigit, not to int()
        "o:asg:4",
        "m:",  # a menu button naming no item
        "m:tip:1",
    ],
)
def test_a_malformed_button_reads_as_nothing(forged: str) -> None:
    assert read_button(forged) is None


def test_a_button_that_would_break_the_format_or_the_limit_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="':'"):
        InviteChoice("area", "a:b").pack()
    with pytest.raises(ValueError, match="empty"):
        PatrolsReport("").pack()
    with pytest.raises(ValueError, match=f"over {CALLBACK_DATA_BYTES} bytes"):
        InviteChoice("area", "x" * CALLBACK_DATA_BYTES).pack()
    # The largest ids a database hands out still fit.
    assert len(AssignTo(2**63 - 1, 2**63 - 1).pack().encode()) <= CALLBACK_DATA_BYTES


async def test_malformed_officer_buttons_are_refused_and_change_nothing(runtime: Runtime) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    code, _ = await file_tip(resident, area="an thuy", story="Ở An Thủy")
    an = await officer(runtime, "An", "an-thuy")
    tip = await tip_id(runtime, code)
    for forged in (f"o:st:verifying:{tip}:1", f"o:st:{tip}", f"o:zz:{tip}", "o:st:verifying:²"):
        await an.choose(forged)
        assert "không có quyền" in an.said()
    await an.choose(SetStatus(TipStatus.VERIFYING.value, tip).pack())
    assert "Đang xác minh" in an.said()
    async with runtime.db.transaction() as db:
        statuses = list(await db.scalars(select(TipEvent.status).where(TipEvent.tip_id == tip)))
    assert statuses.count(TipStatus.VERIFYING) == 1


def test_a_draft_answer_carries_its_drafts_token_and_reads_back() -> None:
    token = new_draft_token()
    data = DraftChoice(token, "a.an-thuy").pack()
    assert data == f"{token}:a.an-thuy"
    assert read_draft_choice(data) == DraftChoice(token, "a.an-thuy")
    tokens = {new_draft_token() for _ in range(50)}
    assert len(tokens) > 1 and all(read_draft_choice(f"{t}:x") for t in tokens)


@pytest.mark.parametrize(
    "forged", ["", "ab12", "ab12:", "AB12:c.drugs", "ab1:c.drugs", "o:open:12"]
)
def test_data_that_is_no_drafts_answer_reads_as_nothing(forged: str) -> None:
    assert read_draft_choice(forged) is None
