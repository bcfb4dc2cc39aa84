"""Features in their own rooms: what each declares reaches dispatch; nothing is left unrouted."""

from __future__ import annotations

import pytest

from handlers.common.types import Reply
from handlers.conversation.buttons import Button, OfficerButton, SetStatus, TipButton
from handlers.conversation.feature import Feature, merged
from handlers.conversation.turn import StepName, Turn
from handlers.dispatch import EVERYTHING, SIDE_STEPS


async def _nothing(_turn: Turn, _button: object = None) -> list[Reply]:
    return []


async def _other(_turn: Turn, _button: object = None) -> list[Reply]:
    return []


def test_two_features_claiming_one_command_step_or_button_are_refused() -> None:
    """A clash is found when the program starts, not when a resident meets it."""
    with pytest.raises(ValueError, match="commands"):
        merged(Feature(commands={"tip": _nothing}), Feature(commands={"tip": _other}))
    with pytest.raises(ValueError, match="side_steps"):
        merged(
            Feature(side_steps={StepName.ANSWER: _nothing}),
            Feature(side_steps={StepName.ANSWER: _other}),
        )
    with pytest.raises(ValueError, match="buttons"):
        merged(Feature(buttons={SetStatus: _nothing}), Feature(buttons={SetStatus: _other}))
    both = merged(Feature(commands={"a": _nothing}), Feature(officer_commands={"a": _other}))
    assert both.commands == {"a": _nothing} and both.officer_commands == {"a": _other}


def test_a_button_goes_to_its_own_class_first_then_the_nearest_above() -> None:
    feature = Feature(buttons={OfficerButton: _nothing, SetStatus: _other})
    assert feature.button_handler(SetStatus) is _other
    assert feature.button_handler(TipButton) is _nothing
    assert feature.button_handler(Button) is None


def test_every_kind_of_button_and_every_step_has_a_feature_to_answer_it() -> None:
    """A button or a step nobody declared would leave a person at a dead end."""
    kinds = set(Button._kinds.values())
    assert kinds and all(EVERYTHING.button_handler(kind) is not None for kind in kinds)
    answered = set(EVERYTHING.draft_steps) | set(SIDE_STEPS)
    assert answered == set(StepName) - {StepName.IDLE}


def test_the_commands_stay_those_residents_and_officers_know() -> None:
    """Moving features between rooms changed no command."""
    assert set(EVERYTHING.commands) == {
        "start", "help", "lang", "language", "cancel", "tip", "status", "forget",
        "officer", "join", "leave", "checkin", "checkout",
        "schedule",  # officers set plans with it, members read theirs (issue 17)
    }  # fmt: skip
    assert set(EVERYTHING.officer_commands) == {
        "tips", "alerts", "export", "invite", "newpatrol", "patrols", "patrol",
        "members", "digest",
        "desk",  # a one-time link to the web desk (issue 18)
    }  # fmt: skip
