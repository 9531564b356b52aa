"""A1 notation: parse what clients send, format ranges the way Google returns them.

Parsed forms: `'Quoted ''Title'''!A1:B2`, `Title!A1`, `Title` (whole sheet), `A1:B2` (first
sheet), `A:C`, `2:5`, `A2:C` (open-ended), `A2`. Bounds are 0-based and half-open; `None` means
"to the edge of the grid". Named ranges and R1C1 are not supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_COLUMN_LETTERS = 3  # ZZZ = 18,278 columns, Sheets' own maximum
_SIDE = re.compile(r"^\$?([A-Za-z]{1,3})?\$?([1-9][0-9]*)?$")
# [?] Google refuses unquoted titles that are not a bare word (e.g. `Items & Stock!A1`) but
# accepts spaces (its own quickstart reads `Class Data!A2:E`); quote anything else.
_UNQUOTED_TITLE = re.compile(r"^[\w][\w ]*$")
# Titles Google returns without quotes: an identifier that cannot be mistaken for a cell.
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")


class A1Error(ValueError):
    """The text is not a range Google could parse."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """0-based half-open bounds; None on an end means up to the grid's edge."""

    start_row: int
    end_row: int | None
    start_col: int
    end_col: int | None

    @property
    def is_single_cell(self) -> bool:
        """True for `A1`-style ranges (one cell, used as an anchor)."""
        return self.end_row == self.start_row + 1 and self.end_col == self.start_col + 1


@dataclass(frozen=True, slots=True)
class A1Range:
    """A range as written: the sheet part (None = first sheet) and the cells part.

    `cells` is None when the text names a whole sheet. `title_was_quoted` matters for bare
    text like `A1`, which is a sheet title only if such a sheet exists.
    """

    title: str | None
    cells: Bounds | None
    title_was_quoted: bool = False
    bare: str | None = None  # unquoted text without `!`: a title or a cell range


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26 (case-insensitive)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1


def parse_cells(text: str) -> Bounds:
    """Parse the cells part: `A1`, `A1:B2`, `A:C`, `2:5`, `A2:C`."""
    first, sep, second = text.partition(":")
    start = _SIDE.match(first)
    if not start or not any(start.groups()):
        raise A1Error(text)
    if not sep:
        col, row = start.groups()
        if col is None or row is None:
            raise A1Error(text)
        c, r = column_index(col), int(row) - 1
        return Bounds(r, r + 1, c, c + 1)
    end = _SIDE.match(second)
    if not end or not any(end.groups()):
        raise A1Error(text)
    (c0, r0), (c1, r1) = start.groups(), end.groups()
    if c0 is None and c1 is None and (r0 is None or r1 is None):
        raise A1Error(text)
    if r0 is None and r1 is None and (c0 is None or c1 is None):
        raise A1Error(text)
    start_col, end_col = _span(
        None if c0 is None else column_index(c0), None if c1 is None else column_index(c1)
    )
    start_row, end_row = _span(
        None if r0 is None else int(r0) - 1, None if r1 is None else int(r1) - 1
    )
    return Bounds(start_row, end_row, start_col, end_col)


def _span(first: int | None, last: int | None) -> tuple[int, int | None]:
    """Half-open span of two inclusive indexes, either missing; reversed input is normalised."""
    if first is not None and last is not None:
        return min(first, last), max(first, last) + 1
    if last is None:
        return (first or 0), None
    return 0, last + 1


def parse_a1(text: str) -> A1Range:
    """Split a range into its sheet title and cells; raise A1Error when Google would refuse it."""
    if not text:
        raise A1Error(text)
    if text.startswith("'"):
        title, rest = _split_quoted(text)
        if rest == "":
            return A1Range(title, None, title_was_quoted=True)
        if not rest.startswith("!") or len(rest) == 1:
            raise A1Error(text)
        return A1Range(title, parse_cells(rest[1:]), title_was_quoted=True)
    title, bang, cells = text.partition("!")
    if not bang:
        return A1Range(None, None, bare=text)
    if not _UNQUOTED_TITLE.match(title) or not cells:
        raise A1Error(text)
    return A1Range(title, parse_cells(cells))


def _split_quoted(text: str) -> tuple[str, str]:
    chars: list[str] = []
    i = 1
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                chars.append("'")
                i += 2
                continue
            return "".join(chars), text[i + 1 :]
        chars.append(text[i])
        i += 1
    raise A1Error(text)


def quote_title(title: str) -> str:
    """The title as Google writes it in a returned range: quoted unless a plain identifier."""
    if _PLAIN_TITLE.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def absolute(title: str, cells: str = "") -> str:
    """A range to send for a sheet, title always quoted as gspread does: `'It''s'!A1`."""
    quoted = "'" + title.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def format_cells(start_row: int, end_row: int, start_col: int, end_col: int) -> str:
    """`A1` for one cell, else `A1:B2` (bounds half-open, already clamped to the grid)."""
    first = f"{column_letters(start_col)}{start_row + 1}"
    if end_row - start_row <= 1 and end_col - start_col <= 1:
        return first
    return f"{first}:{column_letters(end_col - 1)}{end_row}"


def format_range(title: str, start_row: int, end_row: int, start_col: int, end_col: int) -> str:
    """A returned range such as `Invoices!A1:D12` or `'Q1 Budget'!B2`."""
    return f"{quote_title(title)}!{format_cells(start_row, end_row, start_col, end_col)}"
