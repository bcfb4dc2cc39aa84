"""Areas and tip categories: operator data, loaded from JSON files, never hard-coded."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Named:
    """A category or an area: a stable code and its names in each language."""

    code: str
    vi: str
    en: str

    def name(self, lang: str) -> str:
        """The name a person reads, in their language."""
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """The district's extent, for telling a nearby pin from a faraway one."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything a tip can be filed under."""

    district: Named
    areas: tuple[Named, ...]
    categories: tuple[Named, ...]
    bbox: BoundingBox | None = None

    def area(self, code: str) -> Named | None:
        """The area with this code, if the current data still has it."""
        return next((a for a in self.areas if a.code == code), None)

    def category(self, code: str) -> Named | None:
        """The category with this code, if the current data still has it."""
        return next((c for c in self.categories if c.code == code), None)

    def area_name(self, code: str, lang: str) -> str:
        """An area's name, or its code if the data no longer has it."""
        area = self.area(code)
        return area.name(lang) if area else code

    def category_name(self, code: str, lang: str) -> str:
        """A category's name, or its code if the data no longer has it."""
        category = self.category(code)
        return category.name(lang) if category else code


class CatalogError(ValueError):
    """An areas or categories file that cannot be used."""


def _named(item: Any, where: str) -> Named:
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: expected an object with code, vi and en")
    try:
        code, vi = str(item["code"]), str(item["vi"])
    except KeyError as missing:
        raise CatalogError(f"{where}: missing {missing}") from None
    if not code or not code.isascii() or len(code) > 24 or ":" in code or "|" in code:
        raise CatalogError(f"{where}: code {code!r} must be 1-24 ASCII characters without : or |")
    return Named(code=code, vi=vi, en=str(item.get("en") or vi))


def _unique(items: tuple[Named, ...], what: str) -> tuple[Named, ...]:
    if not items:
        raise CatalogError(f"{what}: the list is empty")
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise CatalogError(f"{what}: duplicate codes")
    return items


def load_catalog(areas: Any, categories: Any) -> Catalog:
    """Validate the two parsed JSON documents and build the catalog."""
    if not isinstance(areas, dict) or not isinstance(areas.get("areas"), list):
        raise CatalogError("areas file: expected an object with 'district' and 'areas'")
    if not isinstance(categories, dict) or not isinstance(categories.get("categories"), list):
        raise CatalogError("categories file: expected an object with 'categories'")
    box = areas.get("bbox")
    return Catalog(
        district=_named(areas.get("district"), "areas file: district"),
        areas=_unique(
            tuple(_named(a, f"areas file: area {n}") for n, a in enumerate(areas["areas"], 1)),
            "areas file",
        ),
        categories=_unique(
            tuple(
                _named(c, f"categories file: category {n}")
                for n, c in enumerate(categories["categories"], 1)
            ),
            "categories file",
        ),
        bbox=BoundingBox(**box) if isinstance(box, dict) else None,
    )


def fold(text: str) -> str:
    """Lower-case text without Vietnamese accents, for forgiving matches ('ma tuy' ~ 'Ma túy')."""
    # Every typed answer is matched against the same button labels and commune names, some
    # sixteen folds per update: short texts are remembered, long ones (a story) are not.
    return _fold_short(text) if len(text) <= FOLD_CACHED_LENGTH else _fold(text)


FOLD_CACHED_LENGTH = 64


@functools.lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())
