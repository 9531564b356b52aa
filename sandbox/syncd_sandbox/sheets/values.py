"""The `spreadsheets.values` operations: read, write, append and clear A1 ranges.

Each function works on a `Spreadsheet` under the sandbox lock and returns the API's response
JSON; refusals raise `SheetsApiError` with Google's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from syncd_sandbox.sheets.a1 import column_letters, format_range
from syncd_sandbox.sheets.cells import Cell, Entered
from syncd_sandbox.sheets.dimensions import insert_dimension
from syncd_sandbox.sheets.errors import SheetsApiError, invalid_argument
from syncd_sandbox.sheets.protection import check_editable
from syncd_sandbox.sheets.render import DateTimeRender, Renderer, ValueRender
from syncd_sandbox.sheets.state import MAX_COLUMNS, GridError, Sheet, Spreadsheet
from syncd_sandbox.sheets.user_entered import parse_user_entered

InputOption = Literal["RAW", "USER_ENTERED"]
MajorDimension = Literal["ROWS", "COLUMNS"]
INPUT_OPTIONS: tuple[InputOption, ...] = ("RAW", "USER_ENTERED")
MAJOR_DIMENSIONS: tuple[MajorDimension, ...] = ("ROWS", "COLUMNS")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How values come back: major dimension and render options."""

    major: MajorDimension = "ROWS"
    render: ValueRender = "FORMATTED_VALUE"
    date_time: DateTimeRender = "SERIAL_NUMBER"


@dataclass(slots=True)
class Write:
    """A validated write: where it lands and the rows (row-major) to put there."""

    sheet: Sheet
    row: int
    col: int
    rows: list[list[Any]]

    @property
    def height(self) -> int:
        """Rows written."""
        return len(self.rows)

    @property
    def width(self) -> int:
        """Columns written (the longest row)."""
        return max((len(r) for r in self.rows), default=0)


def resolve(spreadsheet: Spreadsheet, text: str) -> tuple[Sheet, int, int, int, int]:
    """Range text to (sheet, r0, r1, c0, c1) clamped to the grid; 400 when outside it."""
    try:
        sheet, bounds = spreadsheet.resolve(text)
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    r0, r1, c0, c1 = sheet.clamp(bounds)
    if not sheet.fits(max(r1, r0 + 1), max(c1, c0 + 1)):
        raise grid_limits(text, sheet)
    return sheet, r0, r1, c0, c1


def grid_limits(text: str, sheet: Sheet) -> SheetsApiError:
    """Google's 400 for a range reaching past the grid."""
    return invalid_argument(
        f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, "
        f"max columns: {sheet.column_count}"
    )


def read(spreadsheet: Spreadsheet, text: str, options: ReadOptions) -> dict[str, Any]:
    """`values.get`: a ValueRange; trailing blanks trimmed, `values` omitted when empty."""
    sheet, r0, r1, c0, c1 = resolve(spreadsheet, text)
    return value_range(Renderer(spreadsheet), sheet, (r0, r1, c0, c1), options)


def value_range(
    renderer: Renderer, sheet: Sheet, area: tuple[int, int, int, int], options: ReadOptions
) -> dict[str, Any]:
    """A ValueRange for an area already clamped to the grid."""
    r0, r1, c0, c1 = area
    grid: dict[tuple[int, int], Any] = {}
    for row, col, _ in sheet.value_cells(r0, r1, c0, c1):
        grid[(row, col)] = renderer.render(sheet, row, col, options.render, options.date_time)
    if options.major == "ROWS":
        values = _trimmed(grid, r0, c0, by_row=True)
    else:
        values = _trimmed(grid, c0, r0, by_row=False)
    result: dict[str, Any] = {
        "range": format_range(sheet.title, r0, r1, c0, c1),
        "majorDimension": options.major,
    }
    if values:
        result["values"] = values
    return result


def _trimmed(
    grid: dict[tuple[int, int], Any], outer0: int, inner0: int, *, by_row: bool
) -> list[list[Any]]:
    """Lines along the major dimension, each cut after its last value; inner empties kept."""
    lines: dict[int, dict[int, Any]] = {}
    for (row, col), value in grid.items():
        outer, inner = (row, col) if by_row else (col, row)
        lines.setdefault(outer - outer0, {})[inner - inner0] = value
    if not lines:
        return []
    result: list[list[Any]] = []
    for index in range(max(lines) + 1):
        line = lines.get(index, {})
        result.append([line.get(i, "") for i in range(max(line) + 1)] if line else [])
    return result


def plan_write(
    spreadsheet: Spreadsheet, text: str, values: Any, major: Any, *, grow: bool = False
) -> Write:
    """Validate a write of `values` to `text`; nothing changes until `apply_write`."""
    rows = _rows(values, _major(major))
    try:
        sheet, bounds = spreadsheet.resolve(text)
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    write = Write(sheet, bounds.start_row, bounds.start_col, rows)
    if not bounds.is_single_cell:
        r0, r1, c0, c1 = sheet.clamp(bounds)
        if write.height > r1 - r0:
            raise invalid_argument(
                f"Requested writing within range [{text}], but tried writing to row "
                f"[{r0 + write.height}]"
            )
        if write.width > c1 - c0:
            raise invalid_argument(
                f"Requested writing within range [{text}], but tried writing to column "
                f"[{column_letters(c0 + write.width - 1)}]"
            )
        if not grow and not sheet.fits(max(r1, r0 + 1), max(c1, c0 + 1)):
            raise grid_limits(text, sheet)
    if not grow and not sheet.fits(write.row + write.height, write.col + max(write.width, 1)):
        raise grid_limits(text, sheet)
    return write


def _major(major: Any) -> MajorDimension:
    if major in (None, "ROWS", "DIMENSION_UNSPECIFIED"):
        return "ROWS"
    if major == "COLUMNS":
        return "COLUMNS"
    raise invalid_argument(
        "Invalid value at 'data.major_dimension' "
        f'(type.googleapis.com/google.apps.sheets.v4.Dimension), "{major}"'
    )


def _rows(values: Any, major: MajorDimension) -> list[list[Any]]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, list) for v in values):
        raise invalid_argument("Invalid JSON payload received. 'values' must be a list of lists.")
    for i, line in enumerate(values):
        for j, value in enumerate(line):
            if value is not None and not isinstance(value, str | int | float | bool):
                kind = "struct_value" if isinstance(value, dict) else "list_value"
                raise invalid_argument(f"Invalid values[{i}][{j}]: {kind} {value!r}")
    if major == "ROWS":
        return [list(line) for line in values]
    height = max((len(line) for line in values), default=0)
    return [[line[r] if r < len(line) else None for line in values] for r in range(height)]


def apply_write(
    write: Write, option: InputOption, *, currency_symbols: str = "$"
) -> dict[str, Any]:
    """Put the values in (null = leave the cell alone) and return the update response."""
    sheet = write.sheet
    cells = 0
    for i, line in enumerate(write.rows):
        for j, value in enumerate(line):
            if value is None:
                continue
            cells += 1
            put_value(sheet, write.row + i, write.col + j, value, option, currency_symbols)
    result: dict[str, Any] = {
        "updatedRange": format_range(
            sheet.title,
            write.row,
            write.row + max(write.height, 1),
            write.col,
            write.col + max(write.width, 1),
        )
    }
    if cells:
        result.update(updatedRows=write.height, updatedColumns=write.width, updatedCells=cells)
    return result


def put_value(
    sheet: Sheet, row: int, col: int, value: Any, option: InputOption, currency_symbols: str
) -> None:
    """Write one value the way `valueInputOption` says; the cell keeps its format."""
    entered, number_format = to_entered(value, option, currency_symbols)
    current = sheet.cell(row, col)
    if current is None:
        fmt = {"numberFormat": number_format} if number_format else None
        sheet.put(row, col, Cell(entered, fmt))
        return
    fmt = current.fmt
    if number_format is not None:
        fmt = {**(fmt or {}), "numberFormat": number_format}
    sheet.put(row, col, Cell(entered, fmt, current.note, current.validation))


def to_entered(
    value: str | float | bool, option: InputOption, currency_symbols: str
) -> tuple[Entered | None, dict[str, Any] | None]:
    """A JSON input value as an entered value (+ implied number format for USER_ENTERED)."""
    if isinstance(value, bool):
        return Entered("bool", value), None
    if isinstance(value, int | float):
        return Entered("number", float(value)), None
    if value == "":
        return None, None
    if option == "RAW":
        return Entered("string", value), None
    return parse_user_entered(value, currency_symbols=currency_symbols)


def find_table(
    sheet: Sheet, r0: int, r1: int, c0: int, c1: int
) -> tuple[int, int, int, int] | None:
    """The table Google appends after: it starts at the first row in [r0, r1) holding a value
    in columns [c0, c1) and runs down over consecutive non-empty rows, past r1 if need be."""
    data_rows = sorted(
        r
        for r, cells in sheet.rows.items()
        if r >= r0 and any(c0 <= c < c1 and cell.entered is not None for c, cell in cells.items())
    )
    if not data_rows or data_rows[0] >= r1:
        return None
    start = end = data_rows[0]
    present = set(data_rows)
    while end + 1 in present:
        end += 1
    cols = [
        c
        for r in range(start, end + 1)
        for c, cell in sheet.rows[r].items()
        if c0 <= c < c1 and cell.entered is not None
    ]
    return start, end + 1, min(cols), max(cols) + 1


def append(
    spreadsheet: Spreadsheet,
    text: str,
    values: Any,
    major: Any,
    option: InputOption,
    insert_option: str,
    *,
    currency_symbols: str = "$",
    actor: str | None = None,
) -> tuple[Write, dict[str, Any]]:
    """`values.append`: find the table in `text`, write after its last row, growing the grid."""
    if insert_option not in ("OVERWRITE", "INSERT_ROWS"):
        raise invalid_argument(
            "Invalid value at 'insert_data_option' "
            f'(type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "{insert_option}"'
        )
    rows = _rows(values, _major(major))
    try:
        sheet, bounds = spreadsheet.resolve(text)
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    # A single cell anchors the search: gspread's append_rows(table_range="A1") finds the
    # table starting there, and its insert_row() appends at "A<n>" into the blank row it
    # just inserted, expecting the values to land exactly there.
    c0 = bounds.start_col
    c1 = sheet.column_count if bounds.is_single_cell or bounds.end_col is None else bounds.end_col
    r1 = sheet.row_count if bounds.end_row is None else bounds.end_row
    table = find_table(sheet, bounds.start_row, r1, c0, c1)
    start_row, start_col = (table[1], table[2]) if table else (bounds.start_row, c0)
    write = Write(sheet, start_row, start_col, rows)
    check_editable(
        spreadsheet,
        sheet,
        (start_row, start_row + write.height, start_col, start_col + write.width),
        actor,
    )
    inserted = write.height if insert_option == "INSERT_ROWS" else 0
    rows_after = max(sheet.row_count + inserted, start_row + write.height)
    cols_after = max(sheet.column_count, start_col + write.width)
    if cols_after > MAX_COLUMNS:
        raise invalid_argument(f"The grid cannot have more than {MAX_COLUMNS} columns.")
    try:  # check before changing anything, so a refused append leaves no trace
        spreadsheet.check_cell_limit(rows_after * cols_after - sheet.row_count * sheet.column_count)
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    if inserted:
        insert_dimension(spreadsheet, sheet, "ROWS", min(start_row, sheet.row_count), inserted)
    if rows_after > sheet.row_count or cols_after > sheet.column_count:
        sheet.resize(rows_after, cols_after)
    updates = apply_write(write, option, currency_symbols=currency_symbols)
    result: dict[str, Any] = {}
    if table:
        result["tableRange"] = format_range(sheet.title, *table)
    result["updates"] = updates
    return write, result


def clear(spreadsheet: Spreadsheet, text: str) -> tuple[Sheet, tuple[int, int, int, int], str]:
    """`values.clear`: remove values (formats stay); returns the cleared area and its A1 form."""
    sheet, r0, r1, c0, c1 = resolve(spreadsheet, text)
    for row, col, cell in list(sheet.value_cells(r0, r1, c0, c1)):
        sheet.put(row, col, cell.with_value(None))
    return sheet, (r0, r1, c0, c1), format_range(sheet.title, r0, r1, c0, c1)
