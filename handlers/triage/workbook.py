"""An .xlsx an officer can hand on as it is: one sheet a table, its header frozen and filtered,
its columns wide enough to read, real dates, and nothing anyone typed able to run as a formula."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# A cell starting with these is a formula to Excel: tipster text must never run as one.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
# Day first, as Vietnam writes dates; a datetime cell stays a number Excel sorts and filters.
MOMENT_FORMAT = "dd/mm/yyyy hh:mm"
DAY_FORMAT = "dd/mm/yyyy"
# Column widths, in characters: a column fits its longest value within these bounds, a long text
# wraps in a wide column, and a header leaves room for its filter's button.
NARROWEST, WIDEST, LONG_TEXT, FILTER_BUTTON = 10, 40, 60, 2


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header as the reader reads it, whether its cells are long texts (a tip,
    a note) that wrap in a wide column, and how its numbers are shown."""

    header: str
    long: bool = False
    number_format: str | None = None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet: a title, its columns, and one row of values a line, in the columns' order."""

    title: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[object]]


def write_workbook(sheets: Iterable[Sheet]) -> bytes:
    """The sheets as an .xlsx, the first one shown on opening."""
    # Imported here: openpyxl adds about 5 MB to every bot process, and exports are rare.
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook()
    book.remove(book.worksheets[0])
    book.properties.creator = "Tipline"
    for sheet in sheets:
        _fill(book.create_sheet(sheet.title), sheet)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _fill(target: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    target.append([column.header for column in sheet.columns])
    for cell in target[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    for row in sheet.rows:
        assert len(row) == len(sheet.columns), (sheet.title, row)
        target.append([_safe(value) for value in row])
    for index, column in enumerate(sheet.columns):
        letter = get_column_letter(index + 1)
        target.column_dimensions[letter].width = _width(column, [row[index] for row in sheet.rows])
        for (cell,) in target.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            _style(cell, column)
    # The header stays in view while scrolling, filters every column, and heads each printed page.
    target.freeze_panes = "A2"
    target.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{len(sheet.rows) + 1}"
    target.print_title_rows = "1:1"
    target.page_setup.orientation = "landscape"


def _style(cell: Any, column: Column) -> None:
    from openpyxl.styles import Alignment  # noqa: PLC0415

    if isinstance(cell.value, datetime):
        cell.number_format = MOMENT_FORMAT
    elif isinstance(cell.value, date):
        cell.number_format = DAY_FORMAT
    elif column.number_format is not None:
        cell.number_format = column.number_format
    # A long text reads from the left, whatever it holds: the about sheet's dates and counts too.
    horizontal = "left" if column.long else None
    cell.alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=column.long)


def _width(column: Column, values: list[object]) -> int:
    """Wide enough for the header and the longest value, within limits; long texts get a wide
    column to wrap in."""
    if column.long:
        return LONG_TEXT
    longest = max((_shown_length(value) for value in values), default=0)
    return max(NARROWEST, min(WIDEST, max(len(column.header) + FILTER_BUTTON, longest) + 2))


def _shown_length(value: object) -> int:
    if isinstance(value, datetime):
        return len(MOMENT_FORMAT)
    if isinstance(value, date):
        return len(DAY_FORMAT)
    return max(
        (len(line) for line in str(value if value is not None else "").splitlines()), default=0
    )


def _safe(value: object) -> object:
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value
