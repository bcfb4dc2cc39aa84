"""The desk's pictures as SVG geometry: the overview's chart of tips per day, and maps of pins.

The templates turn these numbers into SVG markup on the server: no script draws anything,
and nothing is fetched from elsewhere unless the operator set a tiles address. Maps use the
Web Mercator projection of the usual tiles, so that pins sit right on a tile background when
there is one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.charts import PALETTE, tick_step
from handlers.common.catalog import BoundingBox
from handlers.common.types import Chart
from storage.overview import Cluster

CHART_WIDTH, CHART_HEIGHT = 640, 240
AXIS, FOOT, HEAD = 34, 22, 8  # room for the counts on the left, the dates below, the top bar
DATE_LABELS = 8  # at most, so that they stay legible on a phone
TILE = 256


@dataclass(frozen=True, slots=True)
class Block:
    """One category's part of one day's bar."""

    y: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One day: where its bar stands, its parts, its total and its date (shown or not)."""

    x: float
    width: float
    blocks: tuple[Block, ...]
    total: int
    label: str
    labelled: bool


@dataclass(frozen=True, slots=True)
class ChartDrawing:
    """A stacked bar chart ready to draw in a CHART_WIDTH × CHART_HEIGHT box."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, int], ...]  # (y, value) of each gridline
    legend: tuple[tuple[str, str], ...]  # (colour, name)
    left: int
    right: int
    bottom: int


def chart_drawing(chart: Chart) -> ChartDrawing:
    """Bars stacked bottom-up in the digest picture's colours and order (bot/charts.py)."""
    left, right, top, bottom = AXIS, CHART_WIDTH - 4, HEAD, CHART_HEIGHT - FOOT
    days = len(chart.labels)
    totals = [sum(values[n] for _, values in chart.series) for n in range(days)]
    step = tick_step(max(totals, default=0))
    ceiling = max(step, -(-max(totals, default=0) // step) * step)
    scale = (bottom - top) / ceiling
    slot = (right - left) / max(days, 1)
    every = math.ceil(days / DATE_LABELS) or 1
    bars = []
    for n, label in enumerate(chart.labels):
        y, blocks = float(bottom), []
        for colour, (name, values) in zip(PALETTE, chart.series, strict=False):
            height = values[n] * scale
            if height > 0:
                y -= height
                blocks.append(Block(round(y, 2), round(height, 2), colour, f"{name}: {values[n]}"))
        bars.append(
            Bar(
                x=round(left + n * slot + slot * 0.12, 2),
                width=round(slot * 0.76, 2),
                blocks=tuple(blocks),
                total=totals[n],
                label=label,
                labelled=(days - 1 - n) % every == 0,  # the latest day always has its date
            )
        )
    ticks = tuple((round(bottom - v * scale, 2), v) for v in range(0, ceiling + 1, step))
    legend = tuple((colour, name) for colour, (name, _) in zip(PALETTE, chart.series, strict=False))
    return ChartDrawing(CHART_WIDTH, CHART_HEIGHT, tuple(bars), ticks, legend, left, right, bottom)


@dataclass(frozen=True, slots=True)
class Tile:
    """One background tile: its address and where it lies in the drawing."""

    href: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Spot:
    """A cluster of pins (or one pin) where it lies in the drawing."""

    x: float
    y: float
    radius: float
    count: int


@dataclass(frozen=True, slots=True)
class MapDrawing:
    """A map's extent in pixels at one zoom, its tiles, gridlines and spots."""

    width: float
    height: float
    tile: int
    tiles: tuple[Tile, ...]
    meridians: tuple[tuple[float, str], ...]  # (x, "106.5°")
    parallels: tuple[tuple[float, str], ...]  # (y, "17.1°")
    spots: tuple[Spot, ...]


def _world(latitude: float, longitude: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixels at this zoom, as the tiles are cut."""
    size = TILE * 2**zoom
    sine = math.sin(math.radians(max(-85.0, min(85.0, latitude))))
    x = (longitude + 180.0) / 360.0 * size
    y = (0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)) * size
    return x, y


def map_drawing(
    box: BoundingBox, clusters: list[Cluster], *, widest: float, tiles_url: str = ""
) -> MapDrawing:
    """The box at the deepest zoom that keeps it at most `widest` pixels across, with a spot
    per cluster (larger for more pins) and the tiles under it when a tiles address is set."""
    zoom = max(
        (z for z in range(19) if _width(box, z) <= widest),
        default=0,
    )
    left, top = _world(box.north, box.west, zoom)
    right, bottom = _world(box.south, box.east, zoom)

    def at(latitude: float, longitude: float) -> tuple[float, float]:
        x, y = _world(latitude, longitude, zoom)
        return round(x - left, 1), round(y - top, 1)

    spots = tuple(Spot(*at(c.latitude, c.longitude), _radius(c.count), c.count) for c in clusters)
    tiles: tuple[Tile, ...] = ()
    if tiles_url:
        columns = range(int(left // TILE), int(right // TILE) + 1)
        rows = range(int(top // TILE), int(bottom // TILE) + 1)
        tiles = tuple(
            Tile(tiles_url.format(z=zoom, x=tx, y=ty), tx * TILE - left, ty * TILE - top)
            for ty in rows
            for tx in columns
        )
    step = _grid_step(box.east - box.west)
    meridians = tuple(
        (at(box.north, lon)[0], f"{lon:g}°") for lon in _between(box.west, box.east, step)
    )
    parallels = tuple(
        (at(lat, box.west)[1], f"{lat:g}°") for lat in _between(box.south, box.north, step)
    )
    return MapDrawing(
        width=round(right - left, 1),
        height=round(bottom - top, 1),
        tile=TILE,
        tiles=tiles,
        meridians=meridians,
        parallels=parallels,
        spots=spots,
    )


def pin_box(box: BoundingBox, latitude: float, longitude: float) -> BoundingBox:
    """The box, grown to hold a pin that lies outside it (a margin around the pin)."""
    margin = 0.05 * max(box.north - box.south, box.east - box.west)
    return BoundingBox(
        south=min(box.south, latitude - margin),
        west=min(box.west, longitude - margin),
        north=max(box.north, latitude + margin),
        east=max(box.east, longitude + margin),
    )


def _width(box: BoundingBox, zoom: int) -> float:
    return _world(box.south, box.east, zoom)[0] - _world(box.north, box.west, zoom)[0]


def _radius(count: int) -> float:
    # One pin is a dot; a cluster grows with the digits of its count, never past a thumb.
    return 6.0 if count == 1 else round(min(26.0, 11.0 + 3.0 * math.log10(count) * 2), 1)


def _grid_step(span: float) -> float:
    """A round step in degrees giving a few gridlines across the box."""
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0):
        if span / step <= 8:
            return step
    return 20.0


def _between(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step - 1e-9)
    return [round(n * step, 6) for n in range(first, math.floor(high / step + 1e-9) + 1)]
