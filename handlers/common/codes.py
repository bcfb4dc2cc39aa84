"""Tip codes and passphrases: easy to read aloud, hard to guess."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: a code read over a bad line or in poor light is still the same code.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    """A fresh random tip code, stored without its dash."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """A code as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def parse_code(typed: str) -> str | None:
    """The stored form of a code someone typed (any case, dashes or spaces), or None."""
    compact = re.sub(r"[\s\-_.]", "", typed).upper()
    return compact if _CODE_RE.match(compact) else None


PASSPHRASE_DIGITS = 8


def new_passphrase() -> str:
    """Eight random digits in two groups: typeable on any phone keypad."""
    digits = f"{secrets.randbelow(10**PASSPHRASE_DIGITS):0{PASSPHRASE_DIGITS}d}"
    return f"{digits[:4]} {digits[4:]}"


def normalise_passphrase(typed: str) -> str:
    """Only the digits of what was typed, so spaces and dashes do not matter."""
    return "".join(ch for ch in typed if ch.isdigit())
