"""Rows and columns inserted or deleted (and tabs renamed or deleted), with everything that
refers to them following along.

Every path that inserts or deletes rows (insertDimension, deleteDimension, values.append
with INSERT_ROWS, a person's insert or delete) comes through here, so formulas on every tab
and protected ranges move as in Sheets.
"""

from __future__ import annotations

from collections.abc import Callable

from syncd_sandbox.sheets.cells import Entered
from syncd_sandbox.sheets.formula_shift import (
    Shift,
    delete_sheet_references,
    rename_sheet_references,
    shift_formula,
)
from syncd_sandbox.sheets.protection import shift_protected_ranges
from syncd_sandbox.sheets.state import Dimension, Sheet, Spreadsheet

_Change = Callable[[str, str], str]  # (formula, title of its tab) -> formula


def insert_dimension(
    spreadsheet: Spreadsheet, sheet: Sheet, dimension: Dimension, start: int, count: int
) -> None:
    """Insert `count` blank rows/columns before `start`; GridError as `Sheet.insert`."""
    sheet.insert(dimension, start, count)
    _follow(spreadsheet, sheet, Shift(sheet.title, dimension, start, count, deleted=False))


def delete_dimension(
    spreadsheet: Spreadsheet, sheet: Sheet, dimension: Dimension, start: int, end: int
) -> None:
    """Delete rows/columns [start, end); GridError as `Sheet.delete`."""
    total = sheet.row_count if dimension == "ROWS" else sheet.column_count
    end = min(end, total)
    sheet.delete(dimension, start, end)
    if start < end:
        _follow(spreadsheet, sheet, Shift(sheet.title, dimension, start, end - start, deleted=True))


def forget_sheet(spreadsheet: Spreadsheet, title: str) -> None:
    """After a tab is deleted: references to it on the other tabs become `#REF!`."""
    for other in spreadsheet.sheets:
        _rewrite(other, lambda formula, own: delete_sheet_references(formula, own, title))


def rename_sheet(spreadsheet: Spreadsheet, old_title: str, new_title: str) -> None:
    """After a tab is renamed: references to it on every tab use the new name."""
    for other in spreadsheet.sheets:
        _rewrite(
            other, lambda formula, _own: rename_sheet_references(formula, old_title, new_title)
        )


def _follow(spreadsheet: Spreadsheet, sheet: Sheet, shift: Shift) -> None:
    shift_protected_ranges(sheet, shift.dimension, shift.start, shift.count, deleted=shift.deleted)
    for other in spreadsheet.sheets:
        _rewrite(other, lambda formula, own: shift_formula(formula, own, shift))


def _rewrite(sheet: Sheet, change: _Change) -> None:
    for cells in sheet.rows.values():
        for col, cell in list(cells.items()):
            entered = cell.entered
            if entered is None or entered.kind != "formula":
                continue
            formula = str(entered.value)
            moved = change(formula, sheet.title)
            if moved != formula:
                cells[col] = cell.with_value(Entered("formula", moved))
