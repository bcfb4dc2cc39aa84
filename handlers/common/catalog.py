"""The map and the tip categories: operator data, loaded from JSON files, never hard-coded.

The map is a tree of units (a province, its clusters, their communes and wards; or a district
and its communes), each with its names, the name of its police as residents read it, the
names residents may type for it, and the codes of units merged into it. Tips are filed under
the tree's leaves; an officer covers one unit and everything under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Named:
    """A category or a level of the map: a stable code and its names in each language."""

    code: str
    vi: str
    en: str

    def name(self, lang: str) -> str:
        """The name a person reads, in their language."""
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """The map's extent, for telling a nearby pin from a faraway one."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the map and the police who serve it."""

    code: str
    vi: str
    en: str
    depth: int
    parent: str | None
    police_vi: str | None = None
    police_en: str | None = None
    aliases: tuple[str, ...] = ()
    former: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    bbox: BoundingBox | None = None

    def name(self, lang: str) -> str:
        """The unit's name, in the reader's language."""
        return self.en if lang == "en" else self.vi

    def police(self, lang: str) -> str | None:
        """Its police unit's name as residents read it, when it has police of its own."""
        return self.police_en if lang == "en" else self.police_vi


class Catalog:
    """Everything a tip can be filed under: the map's units and the categories."""

    def __init__(
        self,
        units: tuple[Unit, ...],
        categories: tuple[Named, ...],
        *,
        levels: tuple[Named, ...] = (),
        bbox: BoundingBox | None = None,
    ) -> None:
        self.units = units
        self.categories = categories
        self.levels = levels
        self.bbox = bbox
        self.root = units[0]
        self.areas = tuple(u for u in units if not u.children)
        self._units = {u.code: u for u in units}
        self._units.update({old: u for u in units for old in u.former})
        self._under: dict[str, frozenset[str]] = {}

    def unit(self, code: str | None) -> Unit | None:
        """The unit with this code (or the unit it was merged into); None names the top unit."""
        return self.root if code is None else self._units.get(code)

    def area(self, code: str) -> Unit | None:
        """The area (a unit tips are filed under) with this code, if the current map has it."""
        unit = self._units.get(code)
        return unit if unit is not None and not unit.children else None

    def category(self, code: str) -> Named | None:
        """The category with this code, if the current data still has it."""
        return next((c for c in self.categories if c.code == code), None)

    def area_name(self, code: str, lang: str) -> str:
        """A unit's name, or its code if the map no longer has it."""
        unit = self._units.get(code)
        return unit.name(lang) if unit else code

    def category_name(self, code: str, lang: str) -> str:
        """A category's name, or its code if the data no longer has it."""
        category = self.category(code)
        return category.name(lang) if category else code

    def is_top(self, code: str | None) -> bool:
        """Whether this code covers the whole map."""
        return code is None or self.unit(code) is self.root

    def line(self, code: str) -> Iterator[Unit]:
        """The unit and every unit above it, the top last."""
        unit = self._units.get(code)
        while unit is not None:
            yield unit
            unit = self._units.get(unit.parent) if unit.parent else None

    def codes(self, unit: Unit) -> tuple[str, ...]:
        """Every code a record may carry for this unit: its own and those merged into it."""
        return (unit.code, *unit.former)

    def under(self, code: str | None) -> frozenset[str] | None:
        """Every area code inside a unit, old codes included; None for the whole map."""
        unit = self.unit(code)
        if unit is self.root:
            return None
        if unit is None:
            return frozenset()
        if unit.code not in self._under:
            inside = self._units_below(unit)
            self._under[unit.code] = frozenset(c for u in inside for c in self.codes(u))
        return self._under[unit.code]

    def child_toward(self, top: str | None, area: str) -> str:
        """The unit just below `top` that holds `area` (the area itself when `top` is it)."""
        top_unit = self.unit(top)
        for unit in self.line(area):
            if unit.parent == (top_unit.code if top_unit else None):
                return unit.code
        return self._units[area].code if area in self._units else area

    def box_of(self, code: str | None) -> BoundingBox | None:
        """The extent to draw a unit in: its own box, else the nearest one above it."""
        line = self.line(code) if code is not None else iter((self.root,))
        return next((unit.bbox for unit in line if unit.bbox is not None), self.bbox)

    def level_name(self, depth: int, lang: str) -> str | None:
        """The name of the map's level at this depth ('xã, phường'), when the data gives one."""
        return self.levels[depth].name(lang) if depth < len(self.levels) else None

    def top_police(self, lang: str) -> str:
        """The top unit's police, or the top unit's name when the data names no police."""
        return self.root.police(lang) or self.root.name(lang)

    def police_of(self, area: str, lang: str) -> list[str]:
        """Every police unit serving an area, nearest first."""
        return [p for u in self.line(area) if (p := u.police(lang))]

    def typed_names(self, unit: Unit) -> tuple[str, ...]:
        """Everything a resident may type for a unit: its codes' words, names and aliases."""
        codes = (code.replace("-", " ") for code in self.codes(unit))
        return (*codes, unit.vi, unit.en, *unit.aliases)

    def _units_below(self, unit: Unit) -> list[Unit]:
        found, waiting = [], [unit]
        while waiting:
            current = waiting.pop()
            found.append(current)
            waiting += [self._units[c] for c in current.children]
        return found


class CatalogError(ValueError):
    """An areas or categories file that cannot be used: one line per problem."""


CODE_RULE = "1-24 ASCII characters without spaces, : or |"


def valid_code(code: str) -> bool:
    """Whether a code can be stored with tips and carried in a button."""
    return 0 < len(code) <= 24 and code.isascii() and not any(c in code for c in ": |")


class _MapReader:
    """Reads the areas document, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.units: list[Unit] = []
        self.seen: set[str] = set()

    def problem(self, line: str) -> None:
        self.problems.append(f"areas file: {line}")

    def code(self, item: dict[str, Any], where: str) -> str:
        code = str(item.get("code", ""))
        if not valid_code(code):
            self.problem(f"{where}: code {code!r} must be {CODE_RULE}")
        elif code in self.seen:
            self.problem(f"{where}: code {code!r} is used twice")
        self.seen.add(code)
        return code

    def texts(self, item: Any, where: str) -> tuple[str, str] | None:
        if not isinstance(item, dict) or not str(item.get("vi") or "").strip():
            self.problem(f"{where}: needs a Vietnamese name (vi)")
            return None
        return str(item["vi"]), str(item.get("en") or item["vi"])

    def strings(self, item: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        values = item.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self.problem(f"{where}: {key} must be a list of names")
            return ()
        return tuple(values)

    def unit(self, item: Any, depth: int, parent: str | None, where: str) -> None:
        if not isinstance(item, dict):
            self.problem(f"{where}: expected an object with code, vi, en")
            return
        code = self.code(item, where)
        where = f"unit {code!r}" if code else where
        names = self.texts(item, where) or (code, code)
        police = self.texts(item["police"], f"{where}: police") if "police" in item else None
        former, aliases = self.former(item, where)
        children = item.get("units", [])
        if not isinstance(children, list):
            self.problem(f"{where}: units must be a list")
            children = []
        child_codes = tuple(str(c.get("code", "")) for c in children if isinstance(c, dict))
        box = item.get("bbox")
        bbox = self.box(box, where) if box is not None else None
        self.units.append(
            Unit(
                code=code,
                vi=names[0],
                en=names[1],
                depth=depth,
                parent=parent,
                police_vi=police[0] if police else None,
                police_en=police[1] if police else None,
                aliases=self.strings(item, "aliases", where) + aliases,
                former=former,
                children=child_codes,
                bbox=bbox,
            )
        )
        for n, child in enumerate(children, 1):
            self.unit(child, depth + 1, code, f"{where}: unit {n}")

    def box(self, box: Any, where: str) -> BoundingBox | None:
        try:
            bbox = BoundingBox(**box) if isinstance(box, dict) else None
        except TypeError:
            bbox = None
        if bbox is None or not (bbox.south < bbox.north and bbox.west < bbox.east):
            self.problem(f"{where}: bbox needs south < north and west < east, in degrees")
            return None
        return bbox

    def former(self, item: dict[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Codes merged into a unit and the old names residents may still type."""
        records = item.get("former", [])
        if not isinstance(records, list):
            self.problem(f"{where}: former must be a list of merged units")
            return (), ()
        codes: list[str] = []
        names: list[str] = []
        for n, record in enumerate(records, 1):
            if not isinstance(record, dict):
                self.problem(f"{where}: former {n}: expected the merged unit's record")
                continue
            codes.append(self.code(record, f"{where}: former {n}"))
            names += [str(record.get(k)) for k in ("vi", "en") if record.get(k)]
            names += self.strings(record, "aliases", f"{where}: former {n}")
            # A unit merged twice keeps answering to the codes and names of both merges.
            earlier_codes, earlier_names = self.former(record, f"{where}: former {n}")
            codes += earlier_codes
            names += earlier_names
        return tuple(codes), tuple(names)


def _levels(document: dict[str, Any], reader: _MapReader) -> tuple[Named, ...]:
    levels = document.get("levels", [])
    if not isinstance(levels, list):
        reader.problem("levels must be a list of {vi, en} names, top first")
        return ()
    named = [reader.texts(level, f"level {n}") for n, level in enumerate(levels, 1)]
    return tuple(Named(str(n), *t) for n, t in enumerate(named) if t)


def _legacy_tree(document: dict[str, Any]) -> dict[str, Any]:
    # Files written before the map became a tree: a district and its flat list of areas.
    return {**(document.get("district") or {}), "units": document.get("areas")}


def read_map(document: Any) -> tuple[tuple[Unit, ...], tuple[Named, ...], BoundingBox | None]:
    """The map's units in tree order (the top first), its levels and its extent."""
    if not isinstance(document, dict) or not ("unit" in document or "district" in document):
        raise CatalogError("areas file: expected an object with 'levels' and 'unit'")
    reader = _MapReader()
    root = document["unit"] if "unit" in document else _legacy_tree(document)
    reader.unit(root, 0, None, "top unit")
    levels = _levels(document, reader)
    deepest = max((u.depth for u in reader.units), default=0)
    if levels and len(levels) <= deepest:
        reader.problem(f"levels names {len(levels)} levels, the tree has {deepest + 1}")
    if reader.units and not reader.units[0].children:
        reader.problem("the top unit has no units under it")
    top = reader.units[0].bbox if reader.units else None
    legacy = document.get("bbox")  # a file from before the map was a tree keeps it at the top
    bbox = top or (reader.box(legacy, "top unit") if legacy is not None else None)
    if reader.problems:
        raise CatalogError("\n".join(reader.problems))
    return tuple(reader.units), levels, bbox


def _categories(document: Any) -> tuple[Named, ...]:
    if not isinstance(document, dict) or not isinstance(document.get("categories"), list):
        raise CatalogError("categories file: expected an object with 'categories'")
    named: list[Named] = []
    for n, item in enumerate(document["categories"], 1):
        where = f"categories file: category {n}"
        if not isinstance(item, dict) or "code" not in item or "vi" not in item:
            raise CatalogError(f"{where}: expected an object with code, vi and en")
        code = str(item["code"])
        if not valid_code(code):
            raise CatalogError(f"{where}: code {code!r} must be {CODE_RULE}")
        named.append(Named(code, str(item["vi"]), str(item.get("en") or item["vi"])))
    codes = [c.code for c in named]
    if not named or len(set(codes)) != len(codes):
        raise CatalogError("categories file: the list is empty or has duplicate codes")
    return tuple(named)


def load_catalog(areas: Any, categories: Any) -> Catalog:
    """Validate the two parsed JSON documents and build the catalog."""
    units, levels, bbox = read_map(areas)
    return Catalog(units, _categories(categories), levels=levels, bbox=bbox)
