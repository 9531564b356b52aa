"""What a person does in the Sheets UI: type into cells, insert, delete and sort rows.

Each edit changes the spreadsheet and returns the Apps Script payloads it triggers (the
sandbox sends them). Values are typed, so USER_ENTERED parsing applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syncd_sandbox.sheets.a1 import absolute, column_index, format_cells
from syncd_sandbox.sheets.batch_cells import sort_rows
from syncd_sandbox.sheets.dimensions import delete_dimension, insert_dimension
from syncd_sandbox.sheets.errors import invalid_argument
from syncd_sandbox.sheets.render import Renderer
from syncd_sandbox.sheets.state import GridError, Sheet, Spreadsheet
from syncd_sandbox.sheets.trigger import (
    ChangeType,
    SheetChangeEvent,
    SheetEditEvent,
    apps_script_time,
)
from syncd_sandbox.sheets.values import apply_write, plan_write

Event = SheetEditEvent | SheetChangeEvent
CellInput = str | int | float | bool | None


def type_values(
    spreadsheet: Spreadsheet,
    range_: str,
    values: Sequence[Sequence[CellInput]],
    *,
    user: str | None,
    now: datetime,
    currency_symbols: str = "$",
) -> tuple[dict[str, Any], SheetEditEvent]:
    """Type (or paste) a block at `range_`; returns the update result and the onEdit event."""
    write = plan_write(spreadsheet, range_, [list(row) for row in values], "ROWS")
    result = apply_write(write, "USER_ENTERED", currency_symbols=currency_symbols)
    event = edit_event(
        spreadsheet,
        write.sheet,
        write.row,
        write.col,
        max(write.height, 1),
        max(write.width, 1),
        user,
        now,
    )
    return result, event


def edit_event(
    spreadsheet: Spreadsheet,
    sheet: Sheet,
    row: int,
    col: int,
    height: int,
    width: int,
    user: str | None,
    now: datetime,
) -> SheetEditEvent:
    """The `sheet.edit` payload for a block (0-based start, size)."""
    return SheetEditEvent(
        spreadsheetId=spreadsheet.spreadsheet_id,
        sheetId=sheet.sheet_id,
        sheetName=sheet.title,
        range=format_cells(row, row + height, col, col + width),
        rowStart=row + 1,
        rowEnd=row + height,
        columnStart=col + 1,
        columnEnd=col + width,
        user=user,
        editedAt=apps_script_time(now),
    )


def change_event(
    spreadsheet: Spreadsheet, sheet: Sheet, change: ChangeType, user: str | None, now: datetime
) -> SheetChangeEvent:
    """The `sheet.change` payload (onChange carries no range)."""
    return SheetChangeEvent(
        spreadsheetId=spreadsheet.spreadsheet_id,
        sheetId=sheet.sheet_id,
        sheetName=sheet.title,
        changeType=change,
        user=user,
        editedAt=apps_script_time(now),
    )


def _sheet(spreadsheet: Spreadsheet, title: str) -> Sheet:
    sheet = spreadsheet.sheet_by_title(title)
    if sheet is None or not sheet.is_grid:
        raise invalid_argument(f"Unable to parse range: {title}")
    return sheet


def insert_rows(
    spreadsheet: Spreadsheet,
    title: str,
    at: int,
    *,
    values: Sequence[Sequence[CellInput]] | None,
    count: int | None,
    user: str | None,
    now: datetime,
    currency_symbols: str = "$",
) -> list[Event]:
    """Insert rows above 1-based row `at` (and type `values` into them); rows below move down."""
    sheet = _sheet(spreadsheet, title)
    how_many = count if count is not None else len(values or [])
    if how_many < 1 or not 1 <= at <= sheet.row_count + 1:
        raise invalid_argument(f"Cannot insert {how_many} rows at row {at}.")
    try:
        insert_dimension(spreadsheet, sheet, "ROWS", at - 1, how_many)
        spreadsheet.check_cell_limit()
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    events: list[Event] = [change_event(spreadsheet, sheet, "INSERT_ROW", user, now)]
    if values:
        write = plan_write(
            spreadsheet, absolute(sheet.title, f"A{at}"), [list(r) for r in values], "ROWS"
        )
        apply_write(write, "USER_ENTERED", currency_symbols=currency_symbols)
        events.append(
            edit_event(
                spreadsheet, sheet, write.row, 0, write.height, max(write.width, 1), user, now
            )
        )
    return events


def delete_rows(
    spreadsheet: Spreadsheet, title: str, at: int, count: int, *, user: str | None, now: datetime
) -> list[Event]:
    """Delete `count` rows starting at 1-based row `at`; rows below move up."""
    sheet = _sheet(spreadsheet, title)
    if count < 1 or not 1 <= at <= sheet.row_count:
        raise invalid_argument(f"Cannot delete {count} rows at row {at}.")
    try:
        delete_dimension(spreadsheet, sheet, "ROWS", at - 1, at - 1 + count)
    except GridError as exc:
        raise invalid_argument(str(exc)) from exc
    return [change_event(spreadsheet, sheet, "REMOVE_ROW", user, now)]


def sort_sheet(
    spreadsheet: Spreadsheet,
    title: str,
    column: str | int,
    *,
    descending: bool,
    header_rows: int,
    user: str | None,
    now: datetime,
) -> list[Event]:
    """Data > Sort sheet by a column (letter or 1-based number), keeping `header_rows` on top."""
    sheet = _sheet(spreadsheet, title)
    col = column_index(column) if isinstance(column, str) else column - 1
    if not 0 <= col < sheet.column_count:
        raise invalid_argument(f"Cannot sort by column {column}.")
    last = max(
        (
            r
            for r, cells in sheet.rows.items()
            if any(c.entered is not None for c in cells.values())
        ),
        default=-1,
    )
    if last < header_rows:
        return []
    area = (header_rows, last + 1, 0, sheet.column_count)
    sort_rows(sheet, area, [(col, descending)], Renderer(spreadsheet))
    # [?] Moving rows with data fires both onEdit (for the block) and onChange.
    return [
        edit_event(
            spreadsheet,
            sheet,
            header_rows,
            0,
            last + 1 - header_rows,
            sheet.column_count,
            user,
            now,
        ),
        change_event(spreadsheet, sheet, "OTHER", user, now),
    ]
