"""Which catalogue message a text shows: tests about behaviour name the message, not its words.

`says(text, "receipt.code")` holds when `text` contains the message "receipt.code" in
Vietnamese (or `lang`), its placeholders filled with the `values` given, or with anything for
those left out; a counted message matches any of its plural forms. A translator rewording a
message breaks no test; a handler sending another message does.
"""

from __future__ import annotations

import re
import string
from typing import Any

from handlers.common.texts import BASE_LANGUAGE, templates


def says(text: str, key: str, /, lang: str = BASE_LANGUAGE, **values: Any) -> bool:
    """Whether `text` contains the message `key` (see the module's docstring)."""
    return any(
        re.search(_pattern(form, values), text, re.DOTALL) is not None for form in forms(key, lang)
    )


def filled(text: str, key: str, /, lang: str = BASE_LANGUAGE) -> dict[str, str]:
    """The values the message `key` was filled with in `text` (a receipt's code and
    passphrase); raises LookupError when `text` does not hold the message."""
    for form in forms(key, lang):
        found = re.search(_pattern(form, {}, capture=True), text, re.DOTALL)
        if found is not None:
            return found.groupdict()
    raise LookupError(f"{key!r} is not in the text")


def forms(key: str, lang: str = BASE_LANGUAGE) -> tuple[str, ...]:
    """The message `key` unfilled: one template, or one per plural form."""
    try:
        return templates(lang, key)
    except KeyError:
        raise KeyError(f"no message {key!r}: a test names a message the catalogues lack") from None


def _pattern(template: str, values: dict[str, Any], *, capture: bool = False) -> str:
    parts: list[str] = []
    captured: set[str] = set()
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in values:
            field = "{" + name + ("!" + conversion if conversion else "")
            field += (":" + spec if spec else "") + "}"
            parts.append(re.escape(field.format(**values)))
        elif capture and name.isidentifier():
            parts.append(f"(?P={name})" if name in captured else f"(?P<{name}>.*?)")
            captured.add(name)
        else:
            parts.append(".*?")
    # A value at the very end would be caught empty: it runs to the end of its line.
    return "".join(parts) + ("(?=\n|$)" if capture and template.endswith("}") else "")
