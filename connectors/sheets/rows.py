"""A tab's values as source records: header names as paths, rows identified by their key.

Pure: no I/O. A row is presented as `{header: cell text as displayed}`, every header
present ("" for an empty cell, so clearing a cell reads as a change, not as "not sent"),
with its sheet row number (1-based) in `SourceRecord.row`. Blank rows are skipped. A row
that cannot be used (no key, or a key an earlier row already has) comes out as a problem
record: `SourceRecord.problem` says why, and the engine stores it as a source error located
at `"<tab> row <n>"`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
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
        numbered = [(self.first_row + offset, row) for offset, row in enumerate(self.rows)]
        places = key_rows(
            (number, _text(row, shape.key_index))
            for number, row in numbered
            if any(v.strip() for v in row)
        )
        out: list[SourceRecord] = []
        for number, row in numbered:
            record = shape.record(row, number, places)
            if record is not None:
                out.append(record)
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

    def record(
        self, row: Sequence[str], number: int, places: Mapping[str, Sequence[int]]
    ) -> SourceRecord | None:
        """Sheet row `number` as a record (None: blank). `places`: the rows of every key in
        the tab (see `key_rows`); a key on more than one row makes each of them a problem."""
        if not any(v.strip() for v in row):
            return None  # blank rows separate blocks; they are nobody's record
        data: dict[str, Any] = {
            name: (row[index] if index < len(row) else "") for name, index in self.shown.items()
        }
        value = _text(row, self.key_index)
        if not value:
            keyless = f"{self.title} row {number} has no {self.key}"
            return SourceRecord(entity=self.title, data=data, row=number, problem=keyless)
        rows = places.get(value, ())
        problem = self.duplicate(value, rows) if len(rows) > 1 else None
        return SourceRecord(
            entity=self.title, data=data, external_id=value, row=number, problem=problem
        )

    def duplicate(self, value: str, rows: Sequence[int]) -> str:
        """What a row holding a key other rows hold too is told (every row named)."""
        named = ", ".join(str(n) for n in rows[:-1]) + f" and {rows[-1]}"
        return (
            f"{self.title} rows {named} have the same {self.key} {value}: none of them is "
            f"synced (the record keeps its last agreed values) until only one row has it"
        )

    def duplicate_rows(self, places: Mapping[str, Sequence[int]]) -> list[SourceRecord]:
        """A problem record for every row of every key more than one row holds (no data:
        for the rows a partial read did not read)."""
        return [
            SourceRecord(
                entity=self.title,
                data={},
                external_id=value,
                row=number,
                problem=self.duplicate(value, rows),
            )
            for value, rows in places.items()
            if len(rows) > 1
            for number in rows
        ]


def key_rows(numbered: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
    """Key -> the sheet rows holding it, top to bottom, from (row number, key text) pairs
    (rows without a key left out)."""
    places: dict[str, list[int]] = {}
    for number, value in sorted(numbered):
        if value:
            places.setdefault(value, []).append(number)
    return places


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


def present(records: Sequence[SourceRecord]) -> dict[str, list[SourceRecord]]:
    """Key -> every row holding it, usable or not (a duplicated key is there, not deleted)."""
    found: dict[str, list[SourceRecord]] = {}
    for r in records:
        if r.external_id is not None:
            found.setdefault(r.external_id, []).append(r)
    return found


def _text(row: Sequence[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""
