"""`tipline areas`: the operator's map, listed, checked, and changed when communes merge or rename.

A change edits the areas file and nothing in the database: tips, officers and patrol groups
keep the codes they were stored with, and the file says which unit an old code now belongs
to. So a merge is undone by `unmerge`, and the database never needs a migration for the map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.settings import SettingsError
from handlers.common.catalog import Catalog, CatalogError, read_map, valid_code

Document = dict[str, Any]


def listing(catalog: Catalog) -> str:
    """Every unit, indented under its parent: code, name, police, old codes and names."""
    lines = []
    for unit in catalog.units:
        level = catalog.level_name(unit.depth, "vi")
        extra = [f"[{level}]"] if level else []
        extra += [f"police: {unit.police_vi}"] if unit.police_vi else []
        extra += [f"was: {', '.join(unit.former)}"] if unit.former else []
        extra += [f"also typed: {', '.join(unit.aliases)}"] if unit.aliases else []
        lines.append(f"{'  ' * unit.depth}{unit.code:<24} {unit.vi}  {'  '.join(extra)}".rstrip())
    areas = len(catalog.areas)
    lines.append(f"{len(catalog.units)} units, {areas} of them take tips (no units under them)")
    return "\n".join(lines)


def problems(document: Any) -> list[str]:
    """Every problem of an areas document, one line each; none when it can be used."""
    try:
        read_map(document)
    except CatalogError as error:
        return str(error).splitlines()
    return []


def _units(node: Document) -> Iterator[tuple[Document, Document | None]]:
    """Every unit record with its parent's record, the top first."""
    waiting: list[tuple[Document, Document | None]] = [(node, None)]
    while waiting:
        unit, parent = waiting.pop(0)
        yield unit, parent
        waiting += [(child, unit) for child in unit.get("units", [])]


def _find(document: Document, code: str) -> tuple[Document, Document | None]:
    found = [(u, p) for u, p in _units(document["unit"]) if u.get("code") == code]
    if not found:
        raise SettingsError(f"tipline: no unit {code!r} in the areas file (tipline areas list)")
    return found[0]


def merge(document: Document, old: list[str], into: str, names: dict[str, str]) -> Document:
    """Fold the OLD areas into INTO (made beside the first of them if it is new, named by
    `names`); their records move under INTO's 'former', so their codes and names still lead
    there."""
    _require_tree(document)
    if into in old:
        raise SettingsError(f"tipline: {into!r} cannot be merged into itself")
    records = [_find(document, code) for code in old]
    for record, parent in records:
        if record.get("units") or parent is None:
            raise SettingsError(
                f"tipline: {record['code']!r} has units under it: merge the areas that take tips"
            )
    target = _target(document, into, names, beside=records[0])
    for record, parent in records:
        assert parent is not None
        parent["units"].remove(record)
        target.setdefault("former", []).append(record)
    return document


def _target(
    document: Document,
    code: str,
    names: dict[str, str],
    *,
    beside: tuple[Document, Document | None],
) -> Document:
    existing = [u for u, _ in _units(document["unit"]) if u.get("code") == code]
    if existing:
        return existing[0]
    if not names.get("vi"):
        raise SettingsError(f"tipline: {code!r} is a new unit: give its name with --vi")
    if not valid_code(code):
        raise SettingsError(
            f"tipline: code {code!r} must be 1-24 ASCII characters, no : | or space"
        )
    record, parent = beside
    assert parent is not None
    made: Document = {"code": code, **_named(names)}
    parent["units"].insert(parent["units"].index(record), made)
    return made


def _named(names: dict[str, str]) -> Document:
    """A unit's names (and its police's names) as the areas file writes them."""
    named: Document = {"vi": names["vi"], "en": names.get("en") or names["vi"]}
    if names.get("police_vi"):
        police_vi = names["police_vi"]
        named["police"] = {"vi": police_vi, "en": names.get("police_en") or police_vi}
    return named


def unmerge(document: Document, code: str) -> Document:
    """Put a merged area back where its merge left it: beside the unit it was merged into."""
    _require_tree(document)
    for unit, parent in _units(document["unit"]):
        former = unit.get("former", [])
        record = next((r for r in former if r.get("code") == code), None)
        if record is not None and parent is not None:
            former.remove(record)
            if not former:
                unit.pop("former")
            parent["units"].insert(parent["units"].index(unit) + 1, record)
            return document
    raise SettingsError(f"tipline: no unit was merged from {code!r}")


def rename(document: Document, code: str, names: dict[str, str]) -> Document:
    """Give a unit new names; the old ones stay as names residents may still type."""
    _require_tree(document)
    unit, _ = _find(document, code)
    if not names.get("vi"):
        raise SettingsError("tipline: give the new name with --vi")
    new = _named(names)
    aliases = unit.setdefault("aliases", [])
    for old in (unit.get("vi"), unit.get("en")):
        if old and old not in aliases and old not in (new["vi"], new["en"]):
            aliases.append(old)
    unit.update(new)
    return document


def _require_tree(document: Document) -> None:
    if "unit" not in document:
        raise SettingsError(
            "tipline: this areas file has the old shape (district and areas): write it as a"
            " tree first (README, 'The map')"
        )


def edited_file(path: Path | None) -> Path:
    """The areas file a change is written to: the operator's own, never the packaged one."""
    if path is None:
        raise SettingsError(
            "tipline: the packaged map cannot be changed: copy it (tipline areas list shows"
            " where it is), then set TIPLINE_AREAS_FILE to your copy"
        )
    return path


def save(path: Path, document: Document) -> str:
    """Write the changed map, only if it is still a usable one, in one step."""
    found = problems(document)
    if found:
        raise SettingsError("\n".join(f"tipline: {line}" for line in found))
    partial = path.with_name(path.name + ".new")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    os.replace(partial, path)
    return f"tipline: {path} changed; restart Tipline to use it"
