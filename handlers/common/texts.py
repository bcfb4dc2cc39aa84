"""Everything a person reads, from gettext catalogues: Vietnamese first, then each translation.

The catalogues are `handlers/locale/<language>/LC_MESSAGES/tipline.po`, keyed by message ids
such as "ask.category" (monolingual gettext: Vietnamese is the base language a translator works
from). `pybabel extract` finds every id through the functions below (keywords in pyproject.toml),
so an id is always written out where it is used; `N_` marks one chosen at run time.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeGuard

from babel.core import UnknownLocaleError
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

BASE_LANGUAGE = "vi"
DOMAIN = "tipline"


@dataclass(frozen=True, slots=True)
class Messages:
    """One language's catalogue: plain texts, plural texts, and which plural form a count takes."""

    plain: Mapping[str, str]
    plurals: Mapping[str, tuple[str, ...]]
    plural_form: Callable[[int], int]


def N_(key: str) -> str:  # gettext's name for "marked for extraction, looked up later"
    """A message id, marked for `pybabel extract`, looked up later with text()."""
    return key


def text(lang: str, key: str, **values: Any) -> str:
    """The message `key` in `lang` (Vietnamese where `lang` lacks it), filled with `values`."""
    template = _language(lang).plain.get(key)
    if template is None:
        template = _language(BASE_LANGUAGE).plain[key]
    return template.format(**values) if values else template


def text_n(lang: str, key: str, count: int, **values: Any) -> str:
    """The message `key` in the form `count` takes in `lang`, filled with `count` and `values`."""
    messages = _language(lang)
    forms = messages.plurals.get(key)
    if forms is None:
        messages = _language(BASE_LANGUAGE)
        forms = messages.plurals[key]
    form = min(messages.plural_form(count), len(forms) - 1)
    return forms[form].format(count=count, **values)


def decimal(lang: str, value: float, digits: int = 1) -> str:
    """A number as the reader writes it: "0,5" in Vietnamese, "0.5" in English."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    try:
        return format_decimal(value, format=pattern, locale=lang)
    except UnknownLocaleError:
        return format_decimal(value, format=pattern, locale=BASE_LANGUAGE)


def templates(lang: str, key: str) -> tuple[str, ...]:
    """The message `key` in `lang` (Vietnamese where `lang` lacks it) unfilled: its one
    template, or each plural form. Tests find a message by its id with these."""
    for messages in (_language(lang), _language(BASE_LANGUAGE)):
        found = messages.plurals.get(key) or messages.plain.get(key)
        if found:
            return found if isinstance(found, tuple) else (found,)
    raise KeyError(key)


def languages() -> tuple[str, ...]:
    """The languages a person can choose: Vietnamese first, then the others by code."""
    return tuple(sorted(_catalogues(), key=lambda code: (code != BASE_LANGUAGE, code)))


def _language(lang: str) -> Messages:
    catalogues = _catalogues()
    return catalogues.get(lang) or catalogues[BASE_LANGUAGE]


@cache
def _catalogues() -> dict[str, Messages]:
    return {
        folder.name: _read(folder / "LC_MESSAGES" / f"{DOMAIN}.po")
        for folder in resources.files("handlers").joinpath("locale").iterdir()
        if folder.joinpath("LC_MESSAGES", f"{DOMAIN}.po").is_file()
    }


def _read(path: Any) -> Messages:
    with path.open("rb") as po:
        catalog = read_po(po, domain=DOMAIN)
    plain: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        key, translated = message.id, message.string
        if isinstance(key, str) and isinstance(translated, str) and key and translated:
            plain[key] = translated
        elif isinstance(key, (tuple, list)) and _translated(translated):
            plurals[key[0]] = tuple(translated)
    return Messages(plain, plurals, gettext.c2py(catalog.plural_expr))


def _translated(forms: object) -> TypeGuard[tuple[str, ...] | list[str]]:
    # An untranslated plural reads in Vietnamese, as an untranslated plain message does.
    return isinstance(forms, (tuple, list)) and all(forms)
