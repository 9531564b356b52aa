"""A tab's values as source records: header names as paths, rows identified by their key.

Pure: no I/O. A row is presented as `{header: cell text as displayed}`, every header
present ("" for an empty cell, so clearing a cell reads as a change, not as "not sent"),
with its sheet row number (1-based) in `SourceRecord.row`. Blank rows are skipped. A row
that cannot be used (no key, or a key an earlier row already has) comes out as a problem
record: `SourceRecord.problem` says why, and the engine stores it as a source error located
at `"<tab> row <n>"`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from syncd.connector import SourceRecord

from .a1 import bounds_of


def cells(value_range: dict[str, Any]) -> list[list[str]]:
    """The rows of a ValueRange as text (Google omits `values` for an empty range)."""
    return [["" if v is None else str(v) for v in row] for row in value_range.get("values", [])]


def column_cells(value_range: dict[str, Any]) -> dict[int, str]:
    """Row number -> text of a one-column ValueRange (empty cells left out)."""
    start = bounds_of(value_range).first_row
    return {
        start + offset: row[0].strip()
        for offset, row in enumerate(cells(value_range))
        if row and row[0].strip()
    }


@dataclass(frozen=True)
class Tab:
    """A tab's header and data rows, read in one call."""

    title: str
    header: list[str]  # stripped header cells, "" where blank
    rows: list[list[str]]  # the rows below the header row
    first_row: int  # the sheet row number of rows[0]
    last_column: int | None  # the grid's last column (0-based), when known

    @classmethod
    def read(cls, title: str, value_range: dict[str, Any], header_row: int) -> Tab:
        """A tab from the ValueRange of the whole tab (which starts at A1)."""
        values = cells(value_range)
        header = [h.strip() for h in values[header_row - 1]] if len(values) >= header_row else []
        return cls(
            title=title,
            header=header,
            rows=values[header_row:],
            first_row=header_row + 1,
            last_column=bounds_of(value_range).last_column,
        )

    def columns(self) -> dict[str, int]:
        """Header name -> column index; the first of two same-named columns wins."""
        return columns_of(self.header)

    def duplicate_headers(self) -> list[str]:
        """Header names that appear more than once (only the first column is read)."""
        names = [n for n in self.header if n]
        return sorted({n for n in names if names.count(n) > 1})

    def records(self, key: str, keep: Collection[str] | None = None) -> list[SourceRecord]:
        """Every non-blank row as a record, in sheet order; unusable rows as problems.

        `keep` limits the columns presented (the key always is).
        """
        shape = RowShape.of(self.title, self.header, key, keep)
        seen: dict[str, int] = {}
        out: list[SourceRecord] = []
        for offset, row in enumerate(self.rows):
            number = self.first_row + offset
            value = _text(row, shape.key_index)
            record = shape.record(row, number, seen.get(value))
            if record is not None:
                out.append(record)
                if value:
                    seen.setdefault(value, number)
        return out


@dataclass(frozen=True)
class RowShape:
    """How a tab's rows become records: which columns, which one is the key."""

    title: str
    key: str
    key_index: int
    shown: dict[str, int]  # header name -> column index, of the columns presented

    @classmethod
    def of(
        cls, title: str, header: Sequence[str], key: str, keep: Collection[str] | None
    ) -> RowShape:
        columns = columns_of(header)
        shown = {
            name: index
            for name, index in columns.items()
            if keep is None or name in keep or name == key
        }
        return cls(title, key, columns[key], shown)

    def record(self, row: Sequence[str], number: int, first: int | None) -> SourceRecord | None:
        """Sheet row `number` as a record (None: blank). `first`: the row number of the
        first row above it with the same key, if any (this one is then a duplicate)."""
        if not any(v.strip() for v in row):
            return None  # blank rows separate blocks; they are nobody's record
        data: dict[str, Any] = {
            name: (row[index] if index < len(row) else "") for name, index in self.shown.items()
        }
        value = _text(row, self.key_index)
        if not value:
            problem = f"{self.title} row {number} has no {self.key}"
            return SourceRecord(entity=self.title, data=data, row=number, problem=problem)
        repeated = None
        if first is not None and first < number:
            repeated = f"{self.title} row {first} and row {number} have the same {self.key} {value}"
        return SourceRecord(
            entity=self.title, data=data, external_id=value, row=number, problem=repeated
        )


def columns_of(header: Sequence[str]) -> dict[str, int]:
    """Header name -> column index of a header row; the first of two same-named ones wins."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        if name and name not in found:
            found[name] = index
    return found


def live(records: Sequence[SourceRecord]) -> dict[str, SourceRecord]:
    """Key -> record of the usable rows (problem rows left out)."""
    return {r.external_id: r for r in records if r.external_id is not None and r.problem is None}


def _text(row: Sequence[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""
