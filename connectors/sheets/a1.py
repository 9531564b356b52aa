"""A1 notation for the ranges the connector reads and writes, on `gspread.utils`.

Columns are 0-based here (as in a row's list of cells), rows 1-based (as the sheet numbers
them); gspread's helpers count both from 1. Tab titles are always quoted
(`gspread.utils.absolute_range_name`), so a title that reads like a cell ("A1") or holds a
"!" or a quote is never misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gspread.exceptions import IncorrectCellLabel
from gspread.utils import a1_range_to_grid_range, absolute_range_name, rowcol_to_a1


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    return rowcol_to_a1(1, index + 1)[:-1]  # the cell in row 1, less its row number


def whole_tab(title: str) -> str:
    """The range of a whole tab."""
    return absolute_range_name(title)


def whole_row(title: str, row: int) -> str:
    """The range of one row (1-based)."""
    return absolute_range_name(title, f"{row}:{row}")


def row_span(title: str, first: int, last: int) -> str:
    """The range of rows `first` to `last` (1-based, inclusive)."""
    return absolute_range_name(title, f"{first}:{last}")


def whole_column(title: str, index: int) -> str:
    """The range of one column (0-based index)."""
    letters = column_letters(index)
    return absolute_range_name(title, f"{letters}:{letters}")


def cell(title: str, row: int, index: int) -> str:
    """One cell: 1-based row, 0-based column."""
    return absolute_range_name(title, rowcol_to_a1(row, index + 1))


@dataclass(frozen=True, slots=True)
class Bounds:
    """Where a returned ValueRange starts, and how wide the grid is (from its `range`)."""

    first_row: int  # 1-based
    first_column: int  # 0-based
    last_column: int | None  # 0-based, inclusive; None when the range does not say


def bounds_of(value_range: dict[str, Any]) -> Bounds:
    """Parse the `range` Google returns, e.g. `Invoices!A1:Z1000` or `'My tab'!C1:C40`."""
    text = str(value_range.get("range", ""))
    # The title may hold a "!": the area is what follows the last one. `$` marks (absolute
    # references) do not move a range.
    area = text.rpartition("!")[2].replace("$", "")
    try:
        grid = a1_range_to_grid_range(area)
    except IncorrectCellLabel:
        grid = {}  # not A1: nothing known, as for a range that names no cell
    end = grid.get("endColumnIndex")
    return Bounds(
        first_row=grid.get("startRowIndex", 0) + 1,
        first_column=grid.get("startColumnIndex", 0),
        last_column=end - 1 if end is not None else None,
    )
