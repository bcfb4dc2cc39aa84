"""Buttons as typed values: one codec writes and reads them, none is split by hand."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar, get_type_hints

# Telegram refuses a button whose callback data is longer than this many bytes.
CALLBACK_DATA_BYTES = 64
_SEPARATOR = ":"


class Button:
    """What a pressed button asks for; its data reads `<namespace>:<action>:<field>:...`."""

    namespace: ClassVar[str]
    action: ClassVar[str]
    _kinds: ClassVar[dict[tuple[str, str], type[Button]]] = {}
    _namespaces: ClassVar[dict[str, type[Button]]] = {}

    def __init_subclass__(
        cls, namespace: str = "", action: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if namespace:
            cls.namespace = namespace
            Button._namespaces[namespace] = cls
        if action is not None:  # "": the namespace has one kind, its values follow at once
            cls.action = action
            Button._kinds[(cls.namespace, action)] = cls

    def pack(self) -> str:
        """The button's data, refused if a value would break the format or the size limit."""
        values = [str(getattr(self, f.name)) for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        head = [self.namespace, *([self.action] if self.action else [])]
        return _joined(self, head, values)


def _joined(button: object, head: list[str], values: list[str]) -> str:
    if any(not value or _SEPARATOR in value for value in values):
        raise ValueError(f"{type(button).__name__}: a value is empty or holds {_SEPARATOR!r}")
    data = _SEPARATOR.join([*head, *values])
    if len(data.encode()) > CALLBACK_DATA_BYTES:
        raise ValueError(f"{type(button).__name__}: {data!r} is over {CALLBACK_DATA_BYTES} bytes")
    return data


# A tip draft's token: short, because it rides on every button of the draft.
DRAFT_TOKEN_BYTES = 2


def new_draft_token() -> str:
    """A fresh token for a new tip draft, so its buttons are told from an older draft's."""
    return secrets.token_hex(DRAFT_TOKEN_BYTES)


@dataclass(frozen=True)
class DraftChoice:
    """An answer pressed under a tip draft's question: `<draft token>:<value>`."""

    flow: str
    value: str

    def pack(self) -> str:
        """The button's data (the token is not checked: a draft without one owns no button)."""
        return _joined(self, [self.flow], [self.value])


def read_draft_choice(data: str) -> DraftChoice | None:
    """The draft answer this data stands for, or None if it is no tip draft's button."""
    flow, separator, value = data.partition(_SEPARATOR)
    is_token = len(flow) == 2 * DRAFT_TOKEN_BYTES and all(ch in "0123456789abcdef" for ch in flow)
    return DraftChoice(flow, value) if is_token and separator and value else None


class OfficerButton(Button, namespace="o"):
    """An officer's button: who may press it is decided again on the server."""


class TipButton(OfficerButton):
    """A button about one tip, named by its row id (re-checked against the officer's scope)."""

    tip_id: int


class TipsterButton(Button, namespace="t"):
    """A tipster's button on a message from the police."""


class MemberButton(Button, namespace="p"):
    """A patrol member's button during a shift."""


@dataclass(frozen=True)
class MenuChoice(Button, namespace="m", action=""):
    """An item of the main menu, pressed anywhere."""

    item: str


@dataclass(frozen=True)
class LanguageChoice(Button, namespace="l", action=""):
    """Vietnamese or English, pressed anywhere."""

    language: str


def read_button(data: str) -> Button | None:
    """The button this data stands for, or None for a forged, stale or malformed one."""
    namespace, *rest = data.split(_SEPARATOR)
    kind = Button._kinds.get((namespace, rest[0])) if rest else None
    if kind is not None:
        return _built(kind, rest[1:])
    kind = Button._kinds.get((namespace, ""))
    return None if kind is None else _built(kind, rest)


def namespace_of(data: str) -> type[Button] | None:
    """The class a button's namespace begins with (OfficerButton for "o:..."), readable or not:
    whose feature refuses a forged or stale one; None for data that names no namespace."""
    return Button._namespaces.get(data.partition(_SEPARATOR)[0])


def _built(kind: type[Button], values: list[str]) -> Button | None:
    types = _field_types(kind)
    if len(values) != len(types):
        return None
    pairs = list(zip(types, values, strict=True))
    if not all(value and (wanted is not int or _is_number(value)) for wanted, value in pairs):
        return None
    return kind(*(wanted(value) for wanted, value in pairs))


def _is_number(value: str) -> bool:
    # str.isdigit alone accepts "²", which int() refuses: a forged button must not raise.
    return value.isascii() and value.isdigit()


def _field_types(kind: type[Button]) -> tuple[type, ...]:
    # Read once a kind: the dataclass fields exist only after the class statement has run.
    if kind not in _FIELD_TYPES:
        hints = get_type_hints(kind)
        fields = dataclasses.fields(kind)  # type: ignore[arg-type]
        _FIELD_TYPES[kind] = tuple(hints[f.name] for f in fields)
    return _FIELD_TYPES[kind]


_FIELD_TYPES: dict[type[Button], tuple[type, ...]] = {}


@dataclass(frozen=True)
class OpenTip(TipButton, action="open"):
    tip_id: int


@dataclass(frozen=True)
class TipList(OfficerButton, action="ls"):
    which: str
    page: int


@dataclass(frozen=True)
class SetStatus(TipButton, action="st"):
    status: str
    tip_id: int


@dataclass(frozen=True)
class CloseTip(TipButton, action="cl"):
    status: str
    tip_id: int


@dataclass(frozen=True)
class ConfirmStatus(TipButton, action="sty"):
    """Yes to a status change the tipster will be told of: the status it names, for the tip."""

    status: str
    tip_id: int


@dataclass(frozen=True)
class KeepStatus(TipButton, action="stn"):
    """No to that change: the tip stays as it is, and nobody is told."""

    tip_id: int


@dataclass(frozen=True)
class NextTip(TipButton, action="nx"):
    """The open tip after this one in /tips order, from where this one stood (`standing`)
    when the button was made: an action may since have moved it."""

    standing: int
    tip_id: int


@dataclass(frozen=True)
class AskTipster(TipButton, action="ask"):
    tip_id: int


@dataclass(frozen=True)
class PublicNote(TipButton, action="pn"):
    tip_id: int


@dataclass(frozen=True)
class InternalNote(TipButton, action="in"):
    tip_id: int


@dataclass(frozen=True)
class Acknowledge(TipButton, action="ack"):
    tip_id: int


@dataclass(frozen=True)
class ChooseAssignee(TipButton, action="as"):
    tip_id: int


@dataclass(frozen=True)
class AssignTo(TipButton, action="asg"):
    officer_id: int
    tip_id: int


@dataclass(frozen=True)
class AlertsChoice(OfficerButton, action="al"):
    level: str


@dataclass(frozen=True)
class InviteChoice(OfficerButton, action="inv"):
    question: str
    answer: str


@dataclass(frozen=True)
class CommentMissed(OfficerButton, action="pm"):
    missed_id: int


@dataclass(frozen=True)
class RemoveMember(OfficerButton, action="prm"):
    member_id: int


@dataclass(frozen=True)
class PatrolsReport(OfficerButton, action="pts"):
    period: str


@dataclass(frozen=True)
class DigestChoice(OfficerButton, action="dg"):
    choice: str


@dataclass(frozen=True)
class AnswerQuestion(TipsterButton, action="ans"):
    question_id: int


@dataclass(frozen=True)
class ForgetChoice(TipsterButton, action="fg"):
    """Yes or no to deleting the way back to the tipster of a tip (its code)."""

    code: str
    answer: str


@dataclass(frozen=True)
class Checkpoint(MemberButton, action="cp"):
    pass


@dataclass(frozen=True)
class Incident(MemberButton, action="inc"):
    pass


@dataclass(frozen=True)
class IncidentCategory(MemberButton, action="cat"):
    category: str


@dataclass(frozen=True)
class EndShift(MemberButton, action="end"):
    pass


@dataclass(frozen=True)
class QuietShift(MemberButton, action="quiet"):
    pass
