"""The consolidated sheet's layout: a `RollupSet` -> ONE `spreadsheets.batchUpdate` request list.

Pure: the spreadsheet's current metadata (`spreadsheets.get`: sheets with their ids,
titles, charts and conditional formats) goes in, requests come out.

syncd owns exactly the tabs titled `<prefix><tab title>` ("syncd · Summary"...) and
rewrites only those; every other tab, producers' tabs and stale syncd tabs alike, is never
named in a request. A tab is written as:

- row 1: the question the tab answers and when it was computed; row 2: the first table's
  header. Both rows are frozen. Further tables follow after a blank row, each with a title
  row and a header row (bold on grey, each header cell carrying the column's meaning as a
  note). Notes about a table are the rows under it, in italics.
- values with their types (numbers, dates as serial numbers, links) and number formats.
- conditional formats for the columns' alerts (red: bad, amber: warn, green: good).
- a chart per table that has one, to the right of the tables.

For each owned tab the requests: delete its previous charts and conditional formats
(replaced, never piled up), resize its grid to the content (which drops leftovers of a
longer previous version), write every cell in one `updateCells` over the whole grid,
set column widths, add the rules and charts. A missing tab is added first (`addSheet`,
with an id chosen here so later requests can name it).
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from syncd.rollups.model import Kind, RollupSet, RollupTab, RollupTable, Typed
from syncd.rollups.sheet_format import (
    HEADER_BACKGROUND,
    NOTE_COLOUR,
    cell_data,
    cell_format,
    conditions,
    sheet_zone,
    tone_format,
)

# Bump when the layout changes, so every tab is rewritten in the new layout once.
LAYOUT_VERSION = 1
CHART_GAP_COLUMNS = 1
CHART_COLUMNS = 8  # room for a 600 px chart
CHART_ROWS = 20  # a 371 px chart covers about 18 rows
CHART_WIDTH, CHART_HEIGHT = 600, 371
FROZEN_ROWS = 2
_WIDTHS = {Kind.TEXT: 200, Kind.LINK: 160, Kind.DATETIME: 130, Kind.MONEY: 120}
_DEFAULT_WIDTH = 100
CELL_FIELDS = "userEnteredValue,userEnteredFormat,note"


class LayoutError(ValueError):
    """The spreadsheet cannot take the layout (e.g. an owned title is not a grid sheet)."""


@dataclass(frozen=True, slots=True)
class TablePlace:
    """Where a table sits on its tab (0-based rows): title (None for the first), header, data."""

    table: RollupTable
    title_row: int | None
    header_row: int
    first_row: int  # first data row
    notes_row: int  # first note row (= first_row + len(rows))


@dataclass(frozen=True, slots=True)
class ExistingSheet:
    """What the metadata says about a sheet."""

    sheet_id: int
    title: str
    is_grid: bool
    chart_ids: tuple[int, ...]
    rule_count: int


def tab_title(prefix: str, tab: RollupTab) -> str:
    """The sheet title of a tab: the prefix and the tab's title."""
    return f"{prefix}{tab.title}"


def place(tab: RollupTab) -> list[TablePlace]:
    """Stack a tab's tables: row 0 the question, then each table (title, header, rows, notes)."""
    places = []
    row = 1
    for index, table in enumerate(tab.tables):
        title_row = None
        if index:
            row += 1  # a blank row between tables
            title_row = row
            row += 1
        header = row
        first = header + 1
        notes = first + len(table.rows)
        places.append(TablePlace(table, title_row, header, first, notes))
        row = notes + len(table.notes)
    return places


def read_sheets(metadata: Mapping[str, Any]) -> list[ExistingSheet]:
    """The sheets of a spreadsheets.get response."""
    sheets = []
    for sheet in metadata.get("sheets", []):
        props = sheet.get("properties", {})
        sheets.append(
            ExistingSheet(
                sheet_id=int(props["sheetId"]),
                title=str(props.get("title", "")),
                is_grid=props.get("sheetType", "GRID") == "GRID",
                chart_ids=tuple(int(c["chartId"]) for c in sheet.get("charts", [])),
                rule_count=len(sheet.get("conditionalFormats", [])),
            )
        )
    return sheets


def new_sheet_id(title: str, taken: Collection[int]) -> int:
    """A stable id for a new tab (from its title), avoiding ids in use."""
    candidate = zlib.crc32(title.encode()) & 0x3FFFFFFF
    while candidate in taken or candidate == 0:
        candidate += 1
    return candidate


def build_requests(
    rollups: RollupSet,
    metadata: Mapping[str, Any],
    *,
    prefix: str,
    only: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The requests (re)writing the owned tabs of `rollups` (those in `only`, if given)."""
    existing = {sheet.title: sheet for sheet in read_sheets(metadata)}
    taken = {sheet.sheet_id for sheet in existing.values()}
    zone = sheet_zone(metadata.get("properties", {}).get("timeZone"))
    requests: list[dict[str, Any]] = []
    for tab in rollups.tabs:
        if only is not None and tab.key not in only:
            continue
        title = tab_title(prefix, tab)
        sheet = existing.get(title)
        if sheet is not None and not sheet.is_grid:
            raise LayoutError(f"the sheet {title!r} exists but is not a grid; rename it")
        writer = _TabWriter(tab, rollups, zone)
        if sheet is None:
            sheet_id = new_sheet_id(title, taken)
            taken.add(sheet_id)
            requests.append(writer.add_sheet(sheet_id, title))
        else:
            sheet_id = sheet.sheet_id
            requests += _clear_decorations(sheet)
            requests.append(writer.resize(sheet_id))
        requests += writer.content(sheet_id)
    return requests


def _clear_decorations(sheet: ExistingSheet) -> list[dict[str, Any]]:
    """Delete the tab's previous charts and conditional formats (rules from the last first)."""
    requests: list[dict[str, Any]] = [
        {"deleteEmbeddedObject": {"objectId": chart_id}} for chart_id in sheet.chart_ids
    ]
    requests += [
        {"deleteConditionalFormatRule": {"sheetId": sheet.sheet_id, "index": index}}
        for index in range(sheet.rule_count - 1, -1, -1)
    ]
    return requests


class _TabWriter:
    """Builds the requests of one tab."""

    def __init__(self, tab: RollupTab, rollups: RollupSet, zone: tzinfo) -> None:
        self.tab, self.currency, self.zone = tab, rollups.currency, zone
        self.computed_at = rollups.computed_at
        self.places = place(tab)
        self.width = max((len(t.columns) for t in tab.tables), default=1)
        charts = sum(1 for t in tab.tables if t.chart is not None)
        last = self.places[-1] if self.places else None
        self.rows = max(last.notes_row + len(last.table.notes) if last else 1, FROZEN_ROWS + 1)
        self.rows = max(self.rows, charts * CHART_ROWS + 1)
        self.columns = self.width + (CHART_GAP_COLUMNS + CHART_COLUMNS if charts else 0)

    def _grid(self) -> dict[str, int]:
        return {"rowCount": self.rows, "columnCount": self.columns, "frozenRowCount": FROZEN_ROWS}

    def add_sheet(self, sheet_id: int, title: str) -> dict[str, Any]:
        """addSheet with the grid already sized."""
        properties = {"sheetId": sheet_id, "title": title, "gridProperties": self._grid()}
        return {"addSheet": {"properties": properties}}

    def resize(self, sheet_id: int) -> dict[str, Any]:
        """updateSheetProperties: grid size and frozen rows."""
        return {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": self._grid()},
                "fields": ",".join(f"gridProperties.{name}" for name in self._grid()),
            }
        }

    def content(self, sheet_id: int) -> list[dict[str, Any]]:
        """Cells, column widths, conditional formats and charts."""
        grid = {
            "sheetId": sheet_id,
            "startRowIndex": 0,
            "endRowIndex": self.rows,
            "startColumnIndex": 0,
            "endColumnIndex": self.columns,
        }
        requests: list[dict[str, Any]] = [
            {"updateCells": {"range": grid, "rows": self._cells(), "fields": CELL_FIELDS}}
        ]
        requests += self._column_formats(sheet_id)
        requests += self._widths(sheet_id)
        requests += self._rules(sheet_id)
        requests += self._charts(sheet_id)
        return requests

    # -- cells ----------------------------------------------------------------------------

    def _cells(self) -> list[dict[str, Any]]:
        rows: list[list[dict[str, Any]]] = [[] for _ in range(self.rows)]
        stamp = self.computed_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        rows[0] = [_text(f"{self.tab.question}  (computed {stamp})", {"bold": True})]
        for spot in self.places:
            table = spot.table
            if spot.title_row is not None:
                rows[spot.title_row] = [_text(table.title, {"bold": True, "fontSize": 12})]
            rows[spot.header_row] = [_header(c.header, c.description) for c in table.columns]
            shared_formats = _formatted_columns(table)
            by_column = [index in shared_formats for index in range(len(table.columns))]
            for offset, values in enumerate(table.rows):
                rows[spot.first_row + offset] = [
                    cell_data(value, column.kind, self.currency, self.zone, column_format=shared)
                    for value, column, shared in zip(values, table.columns, by_column, strict=True)
                ]
            for offset, note in enumerate(table.notes):
                rows[spot.notes_row + offset] = [
                    _text(note, {"italic": True, "foregroundColor": NOTE_COLOUR})
                ]
        return [{"values": values} for values in rows]

    def _column_formats(self, sheet_id: int) -> list[dict[str, Any]]:
        """One repeatCell per formatted column: number formats set once, not per cell."""
        requests = []
        for spot in self.places:
            if not spot.table.rows:
                continue
            for index in sorted(_formatted_columns(spot.table)):
                fmt = cell_format(spot.table.columns[index].kind, self.currency)
                requests.append(
                    {
                        "repeatCell": {
                            "range": _area(sheet_id, spot.first_row, spot.notes_row, index),
                            "cell": {"userEnteredFormat": fmt},
                            "fields": ",".join(f"userEnteredFormat.{name}" for name in fmt),
                        }
                    }
                )
        return requests

    def _widths(self, sheet_id: int) -> list[dict[str, Any]]:
        widths = [_DEFAULT_WIDTH] * self.width
        for table in self.tab.tables:
            for index, column in enumerate(table.columns):
                widths[index] = max(widths[index], _WIDTHS.get(column.kind, _DEFAULT_WIDTH))
        return [
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                    "properties": {"pixelSize": width},
                    "fields": "pixelSize",
                }
            }
            for index, width in enumerate(widths)
        ]

    # -- conditional formats --------------------------------------------------------------

    def _rules(self, sheet_id: int) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        for spot in self.places:
            table = spot.table
            if not table.rows:
                continue
            for index, column in enumerate(table.columns):
                area = _area(sheet_id, spot.first_row, spot.notes_row, index)
                for alert in column.alerts:
                    for rule_condition in conditions(alert):
                        rules.append(_rule(area, rule_condition, tone_format(alert.tone)))
                for offset, values in enumerate(table.rows):
                    value = values[index]
                    if isinstance(value, Typed) and value.alerts:
                        row = spot.first_row + offset
                        cell = _area(sheet_id, row, row + 1, index)
                        for alert in value.alerts:
                            for rule_condition in conditions(alert):
                                rules.append(_rule(cell, rule_condition, tone_format(alert.tone)))
        return [
            {"addConditionalFormatRule": {"rule": rule, "index": index}}
            for index, rule in enumerate(rules)
        ]

    # -- charts ---------------------------------------------------------------------------

    def _charts(self, sheet_id: int) -> list[dict[str, Any]]:
        requests = []
        anchor_row = 0
        for spot in self.places:
            chart = spot.table.chart
            if chart is None:
                continue
            table = spot.table

            def source(key: str, spot: TablePlace = spot) -> dict[str, Any]:
                column = spot.table.index(key)
                return {"sources": [_area(sheet_id, spot.header_row, spot.notes_row, column)]}

            value_axis = "BOTTOM_AXIS" if chart.type == "BAR" else "LEFT_AXIS"
            domain_axis = "LEFT_AXIS" if chart.type == "BAR" else "BOTTOM_AXIS"
            basic: dict[str, Any] = {
                "chartType": chart.type,
                "legendPosition": "BOTTOM_LEGEND",
                "headerCount": 1,
                "axis": [
                    {"position": domain_axis, "title": table.column(chart.domain).header},
                ],
                "domains": [{"domain": {"sourceRange": source(chart.domain)}}],
                "series": [
                    {"series": {"sourceRange": source(key)}, "targetAxis": value_axis}
                    for key in chart.series
                ],
            }
            if chart.stacked:
                basic["stackedType"] = "STACKED"
            anchor_row = max(anchor_row, spot.title_row or 0)
            position = {
                "overlayPosition": {
                    "anchorCell": {
                        "sheetId": sheet_id,
                        "rowIndex": anchor_row,
                        "columnIndex": self.width + CHART_GAP_COLUMNS,
                    },
                    "widthPixels": CHART_WIDTH,
                    "heightPixels": CHART_HEIGHT,
                }
            }
            spec = {"title": chart.title, "basicChart": basic}
            requests.append({"addChart": {"chart": {"spec": spec, "position": position}}})
            anchor_row += CHART_ROWS
        return requests


def _formatted_columns(table: RollupTable) -> set[int]:
    """Columns whose format is set once for the column (a kind with a format, no own kinds)."""
    return {
        index
        for index, column in enumerate(table.columns)
        if cell_format(column.kind, "USD")
        and not any(isinstance(row[index], Typed) for row in table.rows)
    }


def _text(text: str, text_format: dict[str, Any]) -> dict[str, Any]:
    return {
        "userEnteredValue": {"stringValue": text},
        "userEnteredFormat": {"textFormat": text_format},
    }


def _header(text: str, note: str) -> dict[str, Any]:
    return {
        "userEnteredValue": {"stringValue": text},
        "userEnteredFormat": {
            "textFormat": {"bold": True},
            "backgroundColor": HEADER_BACKGROUND,
            "wrapStrategy": "WRAP",
        },
        "note": note,
    }


def _area(sheet_id: int, start: int, end: int, column: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": start,
        "endRowIndex": end,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }


def _rule(
    area: dict[str, int], rule_condition: dict[str, Any], fmt: dict[str, Any]
) -> dict[str, Any]:
    return {"ranges": [area], "booleanRule": {"condition": rule_condition, "format": fmt}}


def owned_titles(rollups: RollupSet, prefix: str) -> list[str]:
    """The sheet titles syncd owns for this rollup set."""
    return [tab_title(prefix, tab) for tab in rollups.tabs]
