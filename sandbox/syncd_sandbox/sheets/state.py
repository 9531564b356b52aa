"""In-memory spreadsheets: sheets (tabs) with a sparse grid of cells and their metadata.

Not thread-safe by itself: the sandbox holds one lock around every read and write. Atomic
batch updates work on `Spreadsheet.clone()` and swap it in only when every request applied.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any, Literal

from syncd_sandbox.sheets.a1 import A1Error, Bounds, parse_a1, parse_cells
from syncd_sandbox.sheets.cells import Cell

DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
MAX_CELLS = 10_000_000  # Sheets' per-spreadsheet cell limit
MAX_COLUMNS = 18_278
Dimension = Literal["ROWS", "COLUMNS"]


class GridError(ValueError):
    """A request the grid refuses; the message is Google's wording."""


class Sheet:
    """One tab: its SheetProperties JSON, cells by row then column, and attached metadata."""

    def __init__(self, properties: dict[str, Any]) -> None:
        self.properties = properties
        self.rows: dict[int, dict[int, Cell]] = {}
        self.conditional_formats: list[dict[str, Any]] = []
        self.charts: list[dict[str, Any]] = []
        self.merges: list[dict[str, Any]] = []
        self.basic_filter: dict[str, Any] | None = None
        self.row_meta: dict[int, dict[str, Any]] = {}
        self.col_meta: dict[int, dict[str, Any]] = {}
        self.protected_ranges: list[dict[str, Any]] = []  # ProtectedRange JSON

    @property
    def sheet_id(self) -> int:
        """The tab's numeric id (the `gid` in its URL)."""
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        """The tab's name."""
        return str(self.properties["title"])

    @property
    def is_grid(self) -> bool:
        """False for chart sheets (sheetType OBJECT), which have no cells."""
        return bool(self.properties.get("sheetType", "GRID") == "GRID")

    @property
    def grid(self) -> dict[str, Any]:
        """The mutable gridProperties object."""
        grid: dict[str, Any] = self.properties.setdefault("gridProperties", {})
        return grid

    @property
    def row_count(self) -> int:
        """Rows in the grid."""
        return int(self.grid.get("rowCount", 0))

    @property
    def column_count(self) -> int:
        """Columns in the grid."""
        return int(self.grid.get("columnCount", 0))

    def cell(self, row: int, col: int) -> Cell | None:
        """The cell at 0-based (row, col), None when nothing is set."""
        return self.rows.get(row, {}).get(col)

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        """Store a cell; a blank cell (or None) removes it."""
        if cell is None or cell.is_blank:
            cells = self.rows.get(row)
            if cells is not None:
                cells.pop(col, None)
                if not cells:
                    del self.rows[row]
            return
        self.rows.setdefault(row, {})[col] = cell

    def has_value(self, row: int, col: int) -> bool:
        """True when the cell holds a value (formats alone do not count)."""
        cell = self.cell(row, col)
        return cell is not None and cell.entered is not None

    def clamp(self, bounds: Bounds) -> tuple[int, int, int, int]:
        """Open ends replaced by the grid's edges: (r0, r1, c0, c1), half-open."""
        end_row = self.row_count if bounds.end_row is None else bounds.end_row
        end_col = self.column_count if bounds.end_col is None else bounds.end_col
        return bounds.start_row, end_row, bounds.start_col, end_col

    def fits(self, end_row: int, end_col: int) -> bool:
        """True when a half-open area ending at (end_row, end_col) lies inside the grid."""
        return end_row <= self.row_count and end_col <= self.column_count

    def value_cells(self, r0: int, r1: int, c0: int, c1: int) -> Iterator[tuple[int, int, Cell]]:
        """Cells holding values inside an area, row by row."""
        for row in sorted(r for r in self.rows if r0 <= r < r1):
            cells = self.rows[row]
            for col in sorted(c for c in cells if c0 <= c < c1):
                if cells[col].entered is not None:
                    yield row, col, cells[col]

    def clone(self) -> Sheet:
        """A copy whose grid can be changed without touching this one (cells are immutable)."""
        twin = Sheet(copy.deepcopy(self.properties))
        twin.rows = {row: dict(cells) for row, cells in self.rows.items()}
        twin.conditional_formats = copy.deepcopy(self.conditional_formats)
        twin.charts = copy.deepcopy(self.charts)
        twin.merges = copy.deepcopy(self.merges)
        twin.basic_filter = copy.deepcopy(self.basic_filter)
        twin.row_meta = copy.deepcopy(self.row_meta)
        twin.col_meta = copy.deepcopy(self.col_meta)
        twin.protected_ranges = copy.deepcopy(self.protected_ranges)
        return twin

    def resize(self, rows: int, columns: int) -> None:
        """Set the grid size; cells outside the new grid are lost, as in Sheets."""
        if rows < 1 or columns < 1:
            raise GridError("The grid must have at least one row and one column.")
        if columns > MAX_COLUMNS:
            raise GridError(f"The grid cannot have more than {MAX_COLUMNS} columns.")
        self.grid["rowCount"], self.grid["columnCount"] = rows, columns
        self.rows = {
            r: {c: cell for c, cell in cells.items() if c < columns}
            for r, cells in self.rows.items()
            if r < rows
        }
        self.rows = {r: cells for r, cells in self.rows.items() if cells}

    def insert(self, dimension: Dimension, start: int, count: int) -> None:
        """Insert blank rows/columns before `start`, shifting what follows."""
        if dimension == "ROWS":
            if start > self.row_count:
                raise GridError(
                    f"Cannot insert rows at index {start}: the sheet has {self.row_count} rows."
                )
            self.rows = {(r + count if r >= start else r): cells for r, cells in self.rows.items()}
            self.row_meta = _shift(self.row_meta, start, count)
            self.grid["rowCount"] = self.row_count + count
        else:
            if start > self.column_count:
                raise GridError(
                    f"Cannot insert columns at index {start}: "
                    f"the sheet has {self.column_count} columns."
                )
            self.rows = {
                r: {(c + count if c >= start else c): cell for c, cell in cells.items()}
                for r, cells in self.rows.items()
            }
            self.col_meta = _shift(self.col_meta, start, count)
            self.grid["columnCount"] = self.column_count + count

    def delete(self, dimension: Dimension, start: int, end: int) -> None:
        """Delete rows/columns [start, end), shifting what follows back."""
        total = self.row_count if dimension == "ROWS" else self.column_count
        end = min(end, total)
        if start >= end:
            return
        if start == 0 and end == total:
            noun = "rows" if dimension == "ROWS" else "columns"
            raise GridError(f"You can't delete all the {noun} on the sheet.")
        width = end - start
        if dimension == "ROWS":
            self.rows = {
                (r - width if r >= end else r): cells
                for r, cells in self.rows.items()
                if not start <= r < end
            }
            self.row_meta = _unshift(self.row_meta, start, end)
            self.grid["rowCount"] = total - width
        else:
            kept = {
                r: {
                    (c - width if c >= end else c): cell
                    for c, cell in cells.items()
                    if not start <= c < end
                }
                for r, cells in self.rows.items()
            }
            self.rows = {r: cells for r, cells in kept.items() if cells}
            self.col_meta = _unshift(self.col_meta, start, end)
            self.grid["columnCount"] = total - width


def _shift(meta: dict[int, dict[str, Any]], start: int, count: int) -> dict[int, dict[str, Any]]:
    return {(i + count if i >= start else i): value for i, value in meta.items()}


def _unshift(meta: dict[int, dict[str, Any]], start: int, end: int) -> dict[int, dict[str, Any]]:
    width = end - start
    return {(i - width if i >= end else i): v for i, v in meta.items() if not start <= i < end}


class Spreadsheet:
    """A spreadsheet: properties, ordered sheets, and who it is shared with."""

    def __init__(
        self,
        spreadsheet_id: str,
        title: str,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        shared_with: set[str] | None = None,
        owner: str | None = None,
        created_time: str = "",
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.properties: dict[str, Any] = {
            "title": title,
            "locale": locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": time_zone,
        }
        self.sheets: list[Sheet] = []
        self.shared_with: set[str] = set(shared_with or ())
        # Drive's side of the file: who owns it, each account's role (absent: writer), the
        # permissions that are not one account's (anyone, domain, group), and its times.
        self.owner = owner
        self.roles: dict[str, str] = {}
        self.other_permissions: dict[str, dict[str, Any]] = {}
        self.created_time = self.modified_time = created_time
        self.comments: list[dict[str, Any]] = []  # Drive comments (gspread's copy moves them)
        if owner is not None:
            self.shared_with.add(owner)
            self.roles[owner] = "owner"
        # Ids Google assigns look random; derive them from the id so runs repeat.
        self._random = random.Random(spreadsheet_id)

    @property
    def title(self) -> str:
        """The spreadsheet's name."""
        return str(self.properties["title"])

    def role(self, email: str) -> str | None:
        """The account's Drive role (owner, writer, commenter, reader), None without access."""
        if email in self.shared_with:
            return self.roles.get(email, "writer")
        anyone = self.other_permissions.get("anyoneWithLink") or self.other_permissions.get(
            "anyone"
        )
        return None if anyone is None else str(anyone["role"])

    def new_id(self) -> int:
        """A fresh id for a sheet or chart, unique within this spreadsheet."""
        used = {s.sheet_id for s in self.sheets} | {
            int(chart["chartId"]) for s in self.sheets for chart in s.charts
        }
        while True:
            candidate = self._random.randrange(100_000_000, 2_000_000_000)
            if candidate not in used:
                return candidate

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        """The sheet with that id."""
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def sheet_by_title(self, title: str) -> Sheet | None:
        """The sheet with that title; Sheets matches titles case-insensitively."""
        folded = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == folded), None)

    def add_sheet(self, properties: dict[str, Any]) -> Sheet:
        """Add a sheet from (partial) SheetProperties, filling defaults the way Sheets does."""
        props = copy.deepcopy(properties)
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = 0 if not self.sheets else self.new_id()
        elif not isinstance(sheet_id, int) or sheet_id < 0:
            raise GridError(f"Invalid sheetId: {sheet_id}")
        elif self.sheet_by_id(sheet_id) is not None:
            raise GridError(
                f'A sheet with the id "{sheet_id}" already exists. Please enter another id.'
            )
        title = props.get("title") or self._default_title()
        if self.sheet_by_title(title) is not None:
            raise GridError(
                f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_type = props.get("sheetType", "GRID")
        props.update(sheetId=sheet_id, title=title, sheetType=sheet_type)
        if sheet_type == "GRID":
            grid = props.setdefault("gridProperties", {})
            grid.setdefault("rowCount", DEFAULT_ROWS)
            grid.setdefault("columnCount", DEFAULT_COLUMNS)
            if grid["rowCount"] < 1 or grid["columnCount"] < 1:
                raise GridError("The grid must have at least one row and one column.")
        index = props.get("index", len(self.sheets))
        sheet = Sheet(props)
        self.sheets.insert(max(0, min(int(index), len(self.sheets))), sheet)
        self.reindex()
        self.check_cell_limit()
        return sheet

    def _default_title(self) -> str:
        n = len(self.sheets) + 1
        while self.sheet_by_title(f"Sheet{n}") is not None:
            n += 1
        return f"Sheet{n}"

    def remove_sheet(self, sheet: Sheet) -> None:
        """Delete a sheet; the last one cannot go."""
        if len(self.sheets) == 1:
            raise GridError("You can't remove all the sheets in a document.")
        self.sheets.remove(sheet)
        self.reindex()

    def move_sheet(self, sheet: Sheet, index: int) -> None:
        """Put a sheet at a new position."""
        self.sheets.remove(sheet)
        self.sheets.insert(max(0, min(index, len(self.sheets))), sheet)
        self.reindex()

    def reindex(self) -> None:
        """Renumber `properties.index` after the list order."""
        for i, sheet in enumerate(self.sheets):
            sheet.properties["index"] = i

    def check_cell_limit(self, extra: int = 0) -> None:
        """Refuse growth past the 10,000,000-cell limit (`extra`: cells about to be added)."""
        total = sum(s.row_count * s.column_count for s in self.sheets if s.is_grid) + extra
        if total > MAX_CELLS:
            raise GridError(
                "This action would increase the number of cells in the workbook above the "
                f"limit of {MAX_CELLS} cells."
            )

    def resolve(self, text: str) -> tuple[Sheet, Bounds]:
        """Resolve an A1 range to its sheet and (open-ended) bounds; GridError if unparseable."""
        try:
            parsed = parse_a1(text)
        except A1Error as exc:
            raise GridError(f"Unable to parse range: {text}") from exc
        if parsed.bare is not None:
            sheet = self.sheet_by_title(parsed.bare)
            if sheet is not None and sheet.is_grid:
                return sheet, Bounds(0, None, 0, None)
            try:
                bounds = parse_cells(parsed.bare)
            except A1Error as exc:
                raise GridError(f"Unable to parse range: {text}") from exc
            first = next(
                (s for s in self.sheets if s.is_grid and not s.properties.get("hidden")), None
            )
            if first is None:
                raise GridError(f"Unable to parse range: {text}")
            return first, bounds
        sheet = self.sheet_by_title(parsed.title or "")
        if sheet is None or not sheet.is_grid:
            raise GridError(f"Unable to parse range: {text}")
        return sheet, parsed.cells or Bounds(0, None, 0, None)

    def clone(self) -> Spreadsheet:
        """A copy to apply a batch to; swapped in only if the whole batch succeeds."""
        twin = Spreadsheet.__new__(Spreadsheet)
        twin.spreadsheet_id = self.spreadsheet_id
        twin.properties = copy.deepcopy(self.properties)
        twin.sheets = [sheet.clone() for sheet in self.sheets]
        twin.shared_with = set(self.shared_with)
        twin.owner, twin.roles = self.owner, dict(self.roles)
        twin.other_permissions = copy.deepcopy(self.other_permissions)
        twin.created_time, twin.modified_time = self.created_time, self.modified_time
        twin.comments = copy.deepcopy(self.comments)
        twin._random = random.Random()
        twin._random.setstate(self._random.getstate())
        return twin

    def adopt(self, other: Spreadsheet) -> None:
        """Take over another copy's content (the commit step of an atomic batch)."""
        self.properties, self.sheets = other.properties, other.sheets
        self._random = other._random
