"""The message catalogues: every message the code uses is in every language, and nothing else."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.pofile import read_po

from handlers.common.texts import BASE_LANGUAGE, DOMAIN, languages, text, text_n
from tests.messages import forms, says

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "handlers" / "locale"
# An id is plural (text_n, turn.tn) as a pair (id, id); singular as the id alone.
MessageId = str | tuple[str, ...]
# As pyproject.toml's [[tool.babel.mappings]]: the code, and the desk's templates.
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _extract_config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as pyproject:
        babel: dict[str, dict[str, object]] = tomllib.load(pyproject)["tool"]["babel"]
    return babel["extract_messages"]


def used_in_code() -> dict[MessageId, list[str]]:
    """What `pybabel extract` finds, with the same keywords (pyproject.toml), and where."""
    config = _extract_config()
    keywords = parse_keywords(str(config["keywords"]).split())
    found: dict[MessageId, list[str]] = {}
    for folder in config["input-paths"]:  # type: ignore[attr-defined]
        extracted = extract_from_dir(ROOT / folder, method_map=METHODS, keywords=keywords)
        for file, line, message, _, _ in extracted:
            found.setdefault(message, []).append(f"{folder}/{file}:{line}")
    return found


def catalogue(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, domain=DOMAIN)


def ids(catalog: Catalog) -> set[MessageId]:
    return {_id(message) for message in catalog if message.id}


def _id(message: Message) -> MessageId:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def translations() -> dict[str, Catalog]:
    return {
        folder.name: catalogue(folder / "LC_MESSAGES" / f"{DOMAIN}.po")
        for folder in LOCALE.iterdir()
        if folder.is_dir()
    }


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_in_the_code_is_in_every_language() -> None:
    used = used_in_code()
    for lang, catalog in translations().items():
        missing = {m: where for m, where in used.items() if m not in ids(catalog)}
        assert not missing, f"{lang}: add with `pybabel extract` and `pybabel update`: {missing}"
        empty = [m.id for m in catalog if m.id and not all(_forms(m))]
        assert not empty, f"{lang}: untranslated: {empty}"


def test_no_language_has_a_message_the_code_does_not_use() -> None:
    used = set(used_in_code())
    for lang, catalog in translations().items():
        assert ids(catalog) <= used, f"{lang}: unused: {ids(catalog) - used}"
        assert not catalog.obsolete, f"{lang}: obsolete entries left: {list(catalog.obsolete)}"


def test_the_template_is_what_pybabel_extract_writes() -> None:
    assert ids(catalogue(LOCALE / f"{DOMAIN}.pot")) == set(used_in_code())


def test_placeholders_are_the_same_in_every_language_and_form() -> None:
    base = {_id(m): m for m in translations()[BASE_LANGUAGE] if m.id}
    for lang, catalog in translations().items():
        for message in catalog:
            if _id(message) not in base:
                continue  # the header, or an unused id (the test above names it)
            wanted = placeholders(_forms(base[_id(message)])[0])
            for form in _forms(message):
                # A singular may say "one file" instead of "{count} file", as gettext allows.
                allowed = [wanted, wanted - {"count"}] if message.pluralizable else [wanted]
                assert placeholders(form) in allowed, (lang, message.id, form)


def _forms(message: Message) -> tuple[str, ...]:
    forms = message.string
    return tuple(forms) if isinstance(forms, (list, tuple)) else (forms or "",)


def test_each_language_has_its_own_plural_rule() -> None:
    for lang, catalog in translations().items():
        for message in catalog:
            if message.id and message.pluralizable:
                assert len(_forms(message)) == catalog.num_plurals, (lang, message.id)


def test_counted_texts_take_the_languages_plural_forms() -> None:
    assert text_n("en", "count.files", 1) == "1 file"
    assert text_n("en", "count.files", 0) == "0 files"
    assert text_n("en", "count.files", 3) == "3 files"
    assert text_n("vi", "count.files", 1) == "1 tệp" and text_n("vi", "count.files", 3) == "3 tệp"


def test_a_language_without_a_catalogue_reads_vietnamese() -> None:
    assert text("fr", "yes") == text("vi", "yes") == "Có" and text("en", "yes") == "Yes"
    assert text_n("fr", "count.files", 2) == "2 tệp"


def test_an_id_nobody_wrote_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(KeyError):
        text("vi", "no.such.message")


def test_every_catalogue_is_a_language_to_choose_named_in_itself() -> None:
    assert languages()[0] == BASE_LANGUAGE
    assert set(languages()) == set(translations())
    assert {code: text(code, "language.name") for code in languages()} == {
        "vi": "Tiếng Việt",
        "en": "English",
    }


def test_a_test_names_a_message_and_matches_it_whatever_its_words() -> None:
    """tests/messages.py: a message is found by its id, filled or not; another one is not."""
    receipt = text("vi", "receipt", code="AB12-CD34", passphrase="12345678")
    assert says(f"xin chào\n{receipt}\n", "receipt")
    assert says(receipt, "receipt", code="AB12-CD34")
    assert not says(receipt, "receipt", code="ZZ99-ZZ99")
    assert not says(receipt, "rate.messages")
    expired = text_n("en", "draft.expired", 24)
    assert says(expired, "draft.expired", lang="en", count=24)
    assert not says(expired, "draft.expired", count=24)  # the Vietnamese form is another text
    with pytest.raises(KeyError):
        says(receipt, "no.such.message")


def test_a_group_is_named_once_and_every_step_of_a_tip_says_where_it_is() -> None:
    """The wording is the point: "Tổ Tổ thôn 3" read as a stutter, and steps 5 to 7 had no
    number; every draft step now says "n/7" in both languages, in order."""
    for lang in ("vi", "en"):
        for key in used_in_code():
            for form in forms(key if isinstance(key, str) else key[0], lang):
                assert "Tổ {group}" not in form and "tổ {group}" not in form, (lang, key)
        steps = ["ask.category", "ask.area", "ask.place", "ask.description", "ask.when"]
        steps += ["ask.urgent", "review"]
        marks = [("Bước {}/7" if lang == "vi" else "Step {} of 7").format(n) for n in range(1, 8)]
        for key, mark in zip(steps, marks, strict=True):
            assert mark in forms(key, lang)[0], (lang, key)
        assert marks[4] in forms("got.piece", lang)[0]  # the story's follow-up asks step 5 too
