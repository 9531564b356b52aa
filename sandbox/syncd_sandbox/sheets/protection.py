"""Protected ranges: who may edit which cells, checked on every API write.

A ProtectedRange covers a GridRange (or a whole sheet when the range names only the sheet).
Its editors, and the spreadsheet's owner, may write there; anyone else gets Google's 403.
A `warningOnly` range only warns in the UI, so API writes go through.
"""

from __future__ import annotations

import copy
from typing import Any

from syncd_sandbox.sheets.errors import SheetsApiError
from syncd_sandbox.sheets.state import Dimension, Sheet, Spreadsheet

PROTECTED_MESSAGE = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner "
    "to remove protection if you need to edit."
)
Area = tuple[int, int, int, int]  # r0, r1, c0, c1, half-open


def protected_error() -> SheetsApiError:
    """Google's refusal of a write to a protected cell."""
    return SheetsApiError(403, "PERMISSION_DENIED", PROTECTED_MESSAGE)


def protected_area(sheet: Sheet, protected: dict[str, Any]) -> Area:
    """The cells a ProtectedRange covers, open ends closed at the grid's edges."""
    grid = protected.get("range") or {}
    return (
        int(grid.get("startRowIndex", 0)),
        int(grid.get("endRowIndex", sheet.row_count)),
        int(grid.get("startColumnIndex", 0)),
        int(grid.get("endColumnIndex", sheet.column_count)),
    )


def can_edit(spreadsheet: Spreadsheet, protected: dict[str, Any], email: str | None) -> bool:
    """True when `email` may change cells of this range (owner, an editor, or warning only)."""
    if protected.get("warningOnly"):
        return True
    if email is None:
        return False
    if email == spreadsheet.owner:
        return True
    editors = protected.get("editors") or {}
    users = {str(u).casefold() for u in editors.get("users") or []}
    return email.casefold() in users


def _overlaps(a: Area, b: Area) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _contains(outer: Area, inner: Area) -> bool:
    return (
        outer[0] <= inner[0]
        and inner[1] <= outer[1]
        and outer[2] <= inner[2]
        and inner[3] <= outer[3]
    )


def check_editable(spreadsheet: Spreadsheet, sheet: Sheet, area: Area, email: str | None) -> None:
    """Raise Google's 403 when `area` of `sheet` touches a range `email` may not edit.

    `email` None means nobody is checked (the sandbox's own seeding and set-up).
    """
    if email is None or area[0] >= area[1] or area[2] >= area[3]:
        return
    for protected in sheet.protected_ranges:
        covered = protected_area(sheet, protected)
        if not _overlaps(area, covered) or can_edit(spreadsheet, protected, email):
            continue
        touched = (
            max(area[0], covered[0]),
            min(area[1], covered[1]),
            max(area[2], covered[2]),
            min(area[3], covered[3]),
        )
        exempt = [
            protected_area(sheet, {"range": inner})
            for inner in protected.get("unprotectedRanges") or []
        ]
        if not any(_contains(outer, touched) for outer in exempt):
            raise protected_error()


def render_protected(
    spreadsheet: Spreadsheet, protected: dict[str, Any], email: str | None
) -> dict[str, Any]:
    """The ProtectedRange JSON as `email` sees it: `requestingUserCanEdit` filled in, and
    `editors` shown only to those who may edit (as Google does)."""
    shown = copy.deepcopy(protected)
    editable = can_edit(spreadsheet, protected, email) and not protected.get("warningOnly")
    if protected.get("warningOnly") or not editable:
        shown.pop("editors", None)
    if editable:
        shown["requestingUserCanEdit"] = True
    else:
        shown.pop("requestingUserCanEdit", None)
    return shown


def shift_protected_ranges(
    sheet: Sheet, dimension: Dimension, start: int, count: int, *, deleted: bool
) -> None:
    """Move protected ranges (and their unprotected holes) with inserted/deleted rows or
    columns; a range whose every row or column was deleted goes with them."""
    kept: list[dict[str, Any]] = []
    for protected in sheet.protected_ranges:
        if not _shift_grid(protected.get("range") or {}, dimension, start, count, deleted):
            continue
        holes = protected.get("unprotectedRanges")
        if holes:
            protected["unprotectedRanges"] = [
                hole for hole in holes if _shift_grid(hole, dimension, start, count, deleted)
            ]
        kept.append(protected)
    sheet.protected_ranges = kept


def _shift_grid(
    grid: dict[str, Any], dimension: Dimension, start: int, count: int, deleted: bool
) -> bool:
    """Shift a GridRange in place; False when all of it was deleted."""
    low, high = (
        ("startRowIndex", "endRowIndex")
        if dimension == "ROWS"
        else ("startColumnIndex", "endColumnIndex")
    )
    first, end = grid.get(low), grid.get(high)
    if deleted:
        if first is not None:
            grid[low] = first if first < start else max(start, first - count)
        if end is not None:
            grid[high] = end if end <= start else max(start, end - count)
            return bool(grid[high] > grid.get(low, 0))
        return True
    if first is not None and first >= start:
        grid[low] = first + count
    if end is not None and end > start:
        grid[high] = end + count
    return True
