"""Cell edits the Apps Script names: only those rows are read, as a whole read shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.sheets import SheetsConnector
from connectors.sheets.a1 import cell
from syncd.connector import SourceRecord
from syncd.engine import Engine
from syncd.mapping.load import MappingSet, read_sources
from syncd.store.store import Store
from tests.contract.harness_sheets import SheetsHarness
from tests.factories import sqlite_copy

pytestmark = pytest.mark.sandbox

BATCH_GET = "GET /v4/spreadsheets/{spreadsheet_id}/values:batchGet"
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def _whole(connector: SheetsConnector) -> dict[int, SourceRecord]:
    """Every record of a whole read, by sheet row."""
    batches = connector.pull("Invoices", None, fields=[])
    return {r.row: r for b in batches for r in b.records if r.row is not None}


def _bodies(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def _reads(sheets: SheetsHarness) -> int:
    return sheets.calls().get(BATCH_GET, 0)


def test_edited_rows_read_alone_match_a_whole_read(sheets: SheetsHarness) -> None:
    connector = sheets.connector()
    _whole(connector)  # the service's first read learns the header
    edits = sheets.type_as_person("'Invoices'!K5:K6", [["first"], ["second"]])
    edits += sheets.type_as_person("'Invoices'!K9", [["third"]])
    before = _reads(sheets)
    part = connector.fetch_delivered("Invoices", _bodies(edits), fields=[])
    assert _reads(sheets) == before + 1  # header, key column and rows in one batchGet
    assert part is not None
    whole = _whole(connector)
    assert [r.row for r in part] == [5, 6, 9]
    assert [r.data.get("Notes") for r in part] == ["first", "second", "third"]
    assert part == [whole[5], whole[6], whole[9]]


def test_a_duplicate_key_is_reported_as_a_whole_read_reports_it(messy: SheetsHarness) -> None:
    connector = messy.connector()
    whole = _whole(connector)
    first, second = (int(n) for n in messy.production.notes["duplicate_invoice_rows"].split(","))
    edits = messy.type_as_person(f"'Invoices'!K{first}", [["a"]])
    edits += messy.type_as_person(f"'Invoices'!K{second}", [["b"]])
    part = connector.fetch_delivered("Invoices", _bodies(edits), fields=[])
    assert part is not None
    by_row = {r.row: r for r in part}
    whole = _whole(connector)
    assert by_row[second].problem is not None
    assert by_row[second].problem == whole[second].problem
    assert by_row[first].problem is not None and by_row[first] == whole[first]


def test_what_moves_rows_or_touches_the_header_means_a_whole_read(
    sheets: SheetsHarness,
) -> None:
    connector = sheets.connector()
    edit = sheets.type_as_person("'Invoices'!K5", [["x"]])
    # Not read whole yet by this connector: it does not know the columns.
    assert connector.fetch_delivered("Invoices", _bodies(edit), fields=[]) is None
    _whole(connector)
    inserted = sheets.rows_as_person(action="insert", at=3, count=1)
    assert connector.fetch_delivered("Invoices", _bodies(edit + inserted), fields=[]) is None
    header = sheets.type_as_person("'Invoices'!K1", [["Notes"]])
    assert connector.fetch_delivered("Invoices", _bodies(header), fields=[]) is None
    many = connector.config.edited_rows_limit + 1
    block = sheets.type_as_person(f"'Invoices'!K2:K{many + 1}", [["y"]] * many)
    assert connector.fetch_delivered("Invoices", _bodies(block), fields=[]) is None


def test_the_engine_refreshes_a_tab_from_its_edited_rows(
    sheets: SheetsHarness, tmp_path: Path
) -> None:
    connector = sheets.connector()
    mappings = MappingSet(read_sources(MAPPINGS), {"sheets": dict(connector.read_only_paths)})
    store = Store(sqlite_copy(tmp_path), migrate=False)
    engine = Engine(store, {"sheets": connector}, mappings)
    assert not engine.sync(push=False).errors
    key = next(k for k, row in sorted(sheets.keys().items(), key=lambda kv: kv[1]) if row > 3)
    row = sheets.keys()[key]
    status = sheets.header().index("Status")
    new = "Approved" if sheets.cell(key, "Status") == "Paid" else "Paid"
    edits = sheets.type_as_person(cell("Invoices", row, status), [[new]])
    before = _reads(sheets)
    report = engine.refresh("sheets", "Invoices", None, deliveries=_bodies(edits))
    assert _reads(sheets) == before + 1
    assert report.pulled == 1 and report.changed_fields >= 1
    with store.transaction() as tx:
        link_key = ("sheets", "Invoices", key)
        record_id = tx.links.find([link_key])[link_key].record_id
        assert tx.records.load([record_id])[record_id].value("status") == new.lower()
    store.close()


def test_a_key_gone_or_a_repeat_appearing_or_fixed_means_a_whole_read(
    sheets: SheetsHarness,
) -> None:
    connector = sheets.connector()
    whole = _whole(connector)
    keys = {row: str(r.external_id) for row, r in whole.items() if r.external_id}
    five, six = keys[5], keys[6]
    # A note typed in: keys as they were, so only the row is read.
    note = sheets.type_as_person("'Invoices'!K5", [["a note"]])
    assert connector.fetch_delivered("Invoices", _bodies(note), fields=[]) is not None
    # Row 5 retyped as row 6's number: row 5's number is gone and 6's is on two rows. Only a
    # whole read can tell the engine that (and names both rows).
    retype = sheets.type_as_person("'Invoices'!A5", [[six]])
    assert connector.fetch_delivered("Invoices", _bodies(retype), fields=[]) is None
    again = _whole(connector)
    assert again[5].problem is not None and again[5].problem == again[6].problem
    # Fixed with a new number: nothing is gone, but the repeat is: a whole read again.
    fixed = sheets.type_as_person("'Invoices'!A5", [[f"{five}-B"]])
    assert connector.fetch_delivered("Invoices", _bodies(fixed), fields=[]) is None
    after = _whole(connector)
    assert after[5].problem is None and after[6].problem is None
