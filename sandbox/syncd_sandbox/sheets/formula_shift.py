"""Formula references rewritten when rows or columns are inserted or deleted, as Sheets does.

A reference at or past an insertion moves by the inserted count; a range grows when rows go
in strictly inside it (inserting above its first row moves it, inserting below its last row
leaves it). A deleted reference becomes `#REF!`; a range loses its deleted part and becomes
`#REF!` only when all of it is gone. `$` makes no difference here: absolute references shift
too (they only stay put when a formula is copied). References from other tabs to the changed
tab shift the same way. Only reference tokens change: string literals, names and spacing are
copied as they are (see `formula_tokens`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from syncd_sandbox.sheets.a1 import column_index, column_letters, quote_title
from syncd_sandbox.sheets.formula_tokens import split_sheet, tokenize
from syncd_sandbox.sheets.state import Dimension

_SIDE = re.compile(r"^(\$?)([A-Za-z]{0,3})(\$?)([0-9]*)$")
DELETED = "#REF!"


@dataclass(frozen=True, slots=True)
class Shift:
    """One structural change to a sheet: `count` rows/columns inserted at `start`, or the
    half-open span [start, start + count) deleted."""

    sheet_title: str
    dimension: Dimension
    start: int
    count: int
    deleted: bool

    def index(self, i: int) -> int | None:
        """Where index `i` goes; None when it was deleted."""
        if i < self.start:
            return i
        if not self.deleted:
            return i + self.count
        if i < self.start + self.count:
            return None
        return i - self.count

    def span(self, first: int, last: int | None) -> tuple[int, int | None] | None:
        """Where the inclusive span [first, last] goes (`last` None: to the grid's edge);
        None when all of it was deleted."""
        if not self.deleted:
            grown = None if last is None else (last + self.count if last >= self.start else last)
            return (first + self.count if first >= self.start else first), grown
        new_first = first if first < self.start else max(self.start, first - self.count)
        if last is None:
            return new_first, None
        new_last = last if last < self.start else max(self.start - 1, last - self.count)
        return None if new_last < new_first else (new_first, new_last)


@dataclass(slots=True)
class _Side:
    col_abs: str
    col: int | None
    row_abs: str
    row: int | None

    def text(self) -> str:
        col = "" if self.col is None else self.col_abs + column_letters(self.col)
        row = "" if self.row is None else f"{self.row_abs}{self.row + 1}"
        return col + row


def _side(text: str) -> _Side | None:
    match = _SIDE.match(text)
    if not match or not (match.group(2) or match.group(4)):
        return None
    col_abs, letters, row_abs, digits = match.groups()
    return _Side(
        col_abs,
        column_index(letters) if letters else None,
        row_abs,
        int(digits) - 1 if digits else None,
    )


def shift_formula(formula: str, own_sheet: str, shift: Shift) -> str:
    """The formula (on the tab titled `own_sheet`) with its references moved by `shift`."""
    return rewrite_references(
        formula, own_sheet, shift.sheet_title, lambda cells: _move(cells, shift)
    )


def delete_sheet_references(formula: str, own_sheet: str, deleted_title: str) -> str:
    """References to a deleted tab become `#REF!`, as in Sheets."""
    return rewrite_references(formula, own_sheet, deleted_title, lambda _cells: None)


def rename_sheet_references(formula: str, old_title: str, new_title: str) -> str:
    """References naming tab `old_title` name `new_title` instead (a tab was renamed)."""
    if not formula.startswith("="):
        return formula
    folded = old_title.casefold()
    parts: list[str] = ["="]
    for token in tokenize(formula[1:]):
        sheet, cells = split_sheet(token.text) if token.kind == "ref" else (None, "")
        if sheet is not None and sheet.casefold() == folded:
            parts.append(f"{quote_title(new_title)}!{cells}")
        else:
            parts.append(token.text)
    return "".join(parts)


def rewrite_references(
    formula: str, own_sheet: str, target: str, change: Callable[[str], str | None]
) -> str:
    """Apply `change` to the cells part of every reference to tab `target` (None: `#REF!`)."""
    if not formula.startswith("="):
        return formula
    folded = target.casefold()
    parts: list[str] = ["="]
    changed = False
    for token in tokenize(formula[1:]):
        if token.kind != "ref":
            parts.append(token.text)
            continue
        sheet, cells = split_sheet(token.text)
        if (sheet if sheet is not None else own_sheet).casefold() != folded:
            parts.append(token.text)
            continue
        moved = change(cells)
        changed = changed or moved != cells
        if moved is None:
            parts.append(DELETED)
        else:
            parts.append(token.text[: len(token.text) - len(cells)] + moved)
    return "".join(parts) if changed else formula


def _move(cells: str, shift: Shift) -> str | None:
    first_text, colon, last_text = cells.partition(":")
    first = _side(first_text)
    last = _side(last_text) if colon else None
    if first is None or (colon and last is None):
        return cells
    attr = "row" if shift.dimension == "ROWS" else "col"
    a = getattr(first, attr)
    if last is None:  # one cell
        if a is None:
            return cells
        moved = shift.index(a)
        if moved is None:
            return None
        setattr(first, attr, moved)
        return first.text()
    b = getattr(last, attr)
    if a is None and b is None:  # `A:C` under a row change, `2:5` under a column change
        return cells
    if a is not None and b is not None and b < a:
        a, b = b, a
    lo = a if a is not None else 0
    span = shift.span(lo, b)
    if span is None:
        return None
    if a is not None:
        setattr(first, attr, span[0])
    if b is not None:
        setattr(last, attr, span[1])
    return f"{first.text()}:{last.text()}"
