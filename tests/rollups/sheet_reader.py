"""Read the consolidated sheet back through gspread and compare it with expected tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tests.rollups.expected import SUMMARY_KINDS, Table

SERIAL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)
FORMATS = {
    "int": {"type": "NUMBER", "pattern": "#,##0"},
    "number": {"type": "NUMBER", "pattern": "#,##0.00"},
    "hours": {"type": "NUMBER", "pattern": "#,##0.0"},
    "money": {"type": "CURRENCY", "pattern": '"$"#,##0.00'},
    "percent": {"type": "PERCENT", "pattern": "0.00%"},
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "datetime": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"},
}


def grid(sheet: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The cells of a sheet from spreadsheets.get?includeGridData=true."""
    rows = sheet["data"][0].get("rowData", [])
    return [row.get("values", []) for row in rows]


def cell(cells: list[list[dict[str, Any]]], row: int, col: int) -> dict[str, Any]:
    if row >= len(cells) or col >= len(cells[row]):
        return {}
    return cells[row][col]


def text(cells: list[list[dict[str, Any]]], row: int, col: int) -> str | None:
    value: dict[str, Any] = cell(cells, row, col).get("userEnteredValue", {})
    found = value.get("stringValue")
    return None if found is None else str(found)


def _formatted(value: Any, kind: str) -> str:
    number = float(value)
    if kind == "int":
        return f"{int(value):,}"
    if kind == "hours":
        return format(number, ",.1f")
    if kind == "number":
        return format(number, ",.2f")
    if kind == "money":
        return ("-" if number < 0 else "") + "$" + format(abs(number), ",.2f")
    if kind == "percent":
        return format(number * 100, ".2f") + "%"
    raise AssertionError(kind)


def check_cell(actual: dict[str, Any], expected: Any, kind: str, where: str) -> None:
    """One cell: its typed value, number format and what it displays."""
    entered = actual.get("userEnteredValue")
    fmt = actual.get("userEnteredFormat", {})
    if expected is None:
        assert entered is None, f"{where}: expected an empty cell, found {entered}"
        return
    assert entered is not None, f"{where}: expected {expected!r}, the cell is empty"
    if kind in ("text", "status"):
        assert entered == {"stringValue": expected}, f"{where}: {entered} != {expected!r}"
        assert "numberFormat" not in fmt, where
    elif kind == "link":
        label, url = expected if isinstance(expected, tuple) else (expected, None)
        assert entered == {"stringValue": label}, f"{where}: {entered} != {label!r}"
        if url:
            assert fmt.get("textFormat", {}).get("link") == {"uri": url}, where
    elif kind == "date":
        assert isinstance(expected, date)
        days = (expected - date(1899, 12, 30)).days
        assert entered == {"numberValue": days}, f"{where}: {entered} != {expected}"
        assert fmt.get("numberFormat") == FORMATS["date"], where
        assert actual["formattedValue"] == expected.isoformat(), where
    elif kind == "datetime":
        assert isinstance(expected, datetime)
        serial = (expected - SERIAL_EPOCH).total_seconds() / 86_400
        assert abs(entered["numberValue"] - serial) < 1e-6, f"{where}: {entered} != {expected}"
        assert fmt.get("numberFormat") == FORMATS["datetime"], where
        assert actual["formattedValue"] == expected.strftime("%Y-%m-%d %H:%M"), where
    else:
        assert isinstance(expected, int | Decimal), where
        number = entered.get("numberValue")
        assert number is not None and abs(number - float(expected)) < 1e-9, (
            f"{where}: {entered} != {expected}"
        )
        assert fmt.get("numberFormat") == FORMATS[kind], f"{where}: {fmt}"
        assert actual["formattedValue"] == _formatted(expected, kind), (
            f"{where}: shows {actual['formattedValue']!r} for {expected}"
        )


def _is_note(cells: list[list[dict[str, Any]]], row: int) -> bool:
    fmt = cell(cells, row, 0).get("userEnteredFormat", {})
    return bool(text(cells, row, 0)) and fmt.get("textFormat", {}).get("italic") is True


def check_tab(title: str, sheet: dict[str, Any], tables: list[Table]) -> dict[str, int]:
    """Every table of a tab, cell by cell; returns each table's first data row (0-based)."""
    cells = grid(sheet)
    firsts = {}
    row = 1
    for index, table in enumerate(tables):
        if index:
            row += 1
            assert text(cells, row, 0) == table.title, f"{title}: no table {table.title!r} at {row}"
            row += 1
        headers = [text(cells, row, c) for c in range(len(table.columns))]
        assert headers == [h for h, _ in table.columns], f"{title}/{table.title}: {headers}"
        assert text(cells, row, len(table.columns)) is None, f"{title}/{table.title}: extra column"
        row += 1
        firsts[table.title] = row
        for offset, values in enumerate(table.rows):
            assert len(values) == len(table.columns)
            for col, ((header, kind), value) in enumerate(zip(table.columns, values, strict=True)):
                if kind == "mixed":
                    kind = SUMMARY_KINDS[values[0]]
                where = f"{title}/{table.title} row {offset + 1} [{header}]"
                check_cell(cell(cells, row + offset, col), value, kind, where)
        row += len(table.rows)
        notes = []
        while _is_note(cells, row):
            notes.append(text(cells, row, 0))
            row += 1
        assert not any(text(cells, row, c) for c in range(3)) or row >= len(cells), (
            f"{title}/{table.title}: more rows than expected at {row}"
        )
        if table.notes:
            assert notes == table.notes, f"{title}/{table.title}: notes {notes}"
    assert row >= len(cells) or not any(cells[r] for r in range(row, len(cells)) if cells[r]), (
        f"{title}: content after the last table"
    )
    return firsts
