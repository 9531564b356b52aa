"""Reading cells back: effective values (formulas computed), formatted text, CellData JSON."""

from __future__ import annotations

from typing import Any, Literal

from syncd_sandbox.sheets.a1 import Bounds
from syncd_sandbox.sheets.cells import Cell, Scalar, json_number
from syncd_sandbox.sheets.formulas import REF, Area, CellError, Value, evaluate
from syncd_sandbox.sheets.number_format import format_number, is_date_format
from syncd_sandbox.sheets.state import Sheet, Spreadsheet

ValueRender = Literal["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"]
DateTimeRender = Literal["SERIAL_NUMBER", "FORMATTED_STRING"]
VALUE_RENDERS: tuple[ValueRender, ...] = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_TIME_RENDERS: tuple[DateTimeRender, ...] = ("SERIAL_NUMBER", "FORMATTED_STRING")


class Renderer:
    """Computes what cells show, for one request; formula results are cached for its duration."""

    def __init__(self, spreadsheet: Spreadsheet) -> None:
        self.spreadsheet = spreadsheet
        self._cache: dict[tuple[int, int, int], Value] = {}
        self._active: set[tuple[int, int, int]] = set()

    def effective(self, sheet: Sheet, row: int, col: int, cell: Cell | None = None) -> Value:
        """The cell's value after computing its formula; None when empty (`cell`: the cell
        at that place, when the caller has it already)."""
        if cell is None:
            cell = sheet.cell(row, col)
        if cell is None or cell.entered is None:
            return None
        entered = cell.entered
        if entered.kind != "formula":
            return entered.value
        key = (sheet.sheet_id, row, col)
        if key in self._cache:
            return self._cache[key]
        if key in self._active:
            return REF  # circular dependency
        self._active.add(key)
        try:
            result = evaluate(str(entered.value), _SheetResolver(self, sheet))
        finally:
            self._active.discard(key)
        self._cache[key] = result
        return result

    def area(self, sheet: Sheet, bounds: Bounds) -> Area:
        """Effective values of an area, clamped to the grid."""
        r0, r1, c0, c1 = sheet.clamp(bounds)
        r1, c1 = min(r1, sheet.row_count), min(c1, sheet.column_count)
        return [[self.effective(sheet, r, c) for c in range(c0, c1)] for r in range(r0, r1)]

    def render(
        self, sheet: Sheet, row: int, col: int, option: ValueRender, date_time: DateTimeRender
    ) -> Scalar:
        """The value `values.get` returns for this cell; "" when empty."""
        cell = sheet.cell(row, col)
        if cell is None or cell.entered is None:
            return ""
        if option == "FORMATTED_VALUE":
            return display(self.effective(sheet, row, col, cell), cell.number_format)
        if option == "FORMULA" and cell.entered.kind == "formula":
            return str(cell.entered.value)
        value = self.effective(sheet, row, col, cell)
        if isinstance(value, CellError):
            return value.code
        if value is None:
            return ""
        if isinstance(value, float) and not isinstance(value, bool):
            if date_time == "FORMATTED_STRING" and is_date_format(cell.number_format):
                return display(value, cell.number_format)
            return json_number(value)
        return value

    def cell_data(self, sheet: Sheet, row: int, col: int) -> dict[str, Any]:
        """CellData JSON as `spreadsheets.get?includeGridData=true` returns it."""
        cell = sheet.cell(row, col)
        if cell is None:
            return {}
        data: dict[str, Any] = {}
        if cell.entered is not None:
            data["userEnteredValue"] = cell.entered.to_json()
            value = self.effective(sheet, row, col)
            effective = effective_json(value)
            if effective is not None:
                data["effectiveValue"] = effective
            data["formattedValue"] = display(value, cell.number_format)
        if cell.fmt:
            data["userEnteredFormat"] = cell.fmt
        if cell.note:
            data["note"] = cell.note
        if cell.validation:
            data["dataValidation"] = cell.validation
        return data


class _SheetResolver:
    """Resolves a formula's references relative to the sheet the formula lives on."""

    def __init__(self, renderer: Renderer, sheet: Sheet) -> None:
        self._renderer, self._sheet = renderer, sheet

    def area(self, sheet: str | None, bounds: Bounds) -> Area | CellError:
        target = self._sheet if sheet is None else self._renderer.spreadsheet.sheet_by_title(sheet)
        if target is None or not target.is_grid:
            return REF
        return self._renderer.area(target, bounds)


def display(value: Value, number_format: dict[str, Any] | None) -> str:
    """A value as text, through the number format when it is a number."""
    if value is None:
        return ""
    if isinstance(value, CellError):
        return value.code
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_number(value, number_format)
    return value


def effective_json(value: Value) -> dict[str, Any] | None:
    """An effective value as ExtendedValue JSON (errors as errorValue)."""
    if value is None:
        return None
    if isinstance(value, CellError):
        return {"errorValue": {"type": value.kind, "message": value.message}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, float):
        return {"numberValue": json_number(value)}
    return {"stringValue": value}
