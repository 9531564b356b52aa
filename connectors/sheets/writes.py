"""Planning a write-back: where the rows and columns are now, and the cells to send. Pure.

The Sheets API has no conditional writes, so a push first re-reads where things are (the
connector does that call), and this module turns what was read into `values:batchUpdate`
blocks: one per cell that does not already hold its value, plus the header cells of
write-back columns the tab does not have yet (after its last header).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .a1 import bounds_of, cell
from .rows import Tab, column_cells, columns_of


@dataclass
class Located:
    """Where things are in a tab right now: columns by header, rows by key."""

    columns: dict[str, int]  # header -> column index
    header: list[str]  # the header row up to its last non-empty cell
    last_column: int | None  # the grid's last column (0-based), when known
    rows: dict[str, int] = field(default_factory=dict)  # key -> its sheet row
    # Keys more than one row holds: neither row is written (no row wins by position).
    duplicated: set[str] = field(default_factory=set)
    current: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> text

    @classmethod
    def from_columns(
        cls,
        key: str,
        header_row: int,
        header: list[str],
        header_range: dict[str, Any],
        columns: dict[int, dict[str, Any]],
    ) -> Located:
        """From a read of the header row and of whole columns (index -> its ValueRange)."""
        positions = columns_of(header)
        where = cls(positions, header, bounds_of(header_range).last_column)
        for row, value in sorted(column_cells(columns[positions[key]]).items()):
            if row > header_row:
                where.place(value, row)
        for col, value_range in columns.items():
            for row, text in column_cells(value_range).items():
                where.current[(row, col)] = text
        return where

    @classmethod
    def from_tab(cls, tab: Tab, key: str, watched: Sequence[str]) -> Located:
        """From a read of the whole tab."""
        positions = tab.columns()
        where = cls(positions, list(tab.header), tab.last_column)
        key_col = positions[key]
        cols = [positions[h] for h in watched if h in positions]
        for offset, row in enumerate(tab.rows):
            number = tab.first_row + offset
            value = row[key_col].strip() if key_col < len(row) else ""
            if value:
                where.place(value, number)
            for col in cols:
                if col < len(row) and row[col].strip():
                    where.current[(number, col)] = row[col].strip()
        return where

    def place(self, value: str, row: int) -> None:
        """Note that sheet row `row` holds key `value`."""
        if value in self.rows:
            self.duplicated.add(value)
        else:
            self.rows[value] = row

    def add_headers(
        self, title: str, header_row: int, names: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Blocks writing the headers of `names` the tab lacks, after its last header."""
        missing = [n for n in names if n not in self.columns]
        width = len(self.header)
        blocks = []
        for offset, name in enumerate(missing):
            self.columns[name] = width + offset
            blocks.append({"range": cell(title, header_row, width + offset), "values": [[name]]})
        self.header += missing
        return blocks

    def columns_short(self) -> int:
        """How many columns the grid lacks for the header row (0: it fits or is unknown)."""
        if self.last_column is None:
            return 0
        return max(0, len(self.header) - 1 - self.last_column)

    def blocks(self, title: str, row: int, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Blocks setting `values` (header -> cell value) in one row, skipping equal cells."""
        out = []
        for header, value in values.items():
            col = self.columns[header]
            if self.current.get((row, col), "") == displayed(value).strip():
                continue  # already there (a replay): spare the write quota
            out.append({"range": cell(title, row, col), "values": [[value]]})
        return out


def cell_value(value: Any) -> Any:
    """A value as typed into a cell; text starting with "=" stays text, never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return "'" + value if value.startswith("=") else value
    raise ValueError(f"a {type(value).__name__} cannot be written into a cell")


def displayed(value: Any) -> str:
    """What a written value shows as, for telling whether a cell already holds it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = str(value)
    return text[1:] if text.startswith("'=") else text
