"""API calls the Sheets connector spends, counted by the sandbox, at the real batch size.

Run with `-s` to see the figures:
`.venv/bin/pytest tests/connectors/test_sheets_calls.py -s`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from connectors.sheets import SheetsConnector
from connectors.sheets.config import MAX_BATCH_SIZE
from syncd.connector import PushItem
from tests.contract.harness_sheets import SheetsHarness

pytestmark = pytest.mark.sandbox

AUTH_CALLS = ("POST /token", "GET /v1/projects/-/serviceAccounts/{email}/allowedLocations")
BATCH_GET = "GET /v4/spreadsheets/{spreadsheet_id}/values:batchGet"
VALUES_UPDATE = "POST /v4/spreadsheets/{spreadsheet_id}/values:batchUpdate"
INVOICES = 2000  # rows in the Invoices tab: four batches of 500


@pytest.fixture(scope="module")
def sheets() -> Iterator[SheetsHarness]:
    harness = SheetsHarness(invoices=INVOICES)
    harness.start()
    yield harness
    harness.stop()


def _spent(sheets: SheetsHarness, before: dict[str, int]) -> dict[str, int]:
    """Sheets API calls since `before` (google-auth's token and boundary calls left out)."""
    after = sheets.calls()
    return {
        k: after[k] - before.get(k, 0)
        for k in after
        if after[k] != before.get(k, 0) and k not in AUTH_CALLS
    }


def test_api_calls_for_pulls_pushes_and_refreshes(sheets: SheetsHarness) -> None:
    connector: SheetsConnector = sheets.make_connector(batch_size=MAX_BATCH_SIZE)
    list(connector.pull("Budget", None, fields=[]))  # authenticates: one token, once an hour
    deadline = time.monotonic() + 5
    while AUTH_CALLS[1] not in sheets.calls() and time.monotonic() < deadline:
        time.sleep(0.02)  # google-auth looks its access boundary up in a background thread
    auth = {k: v for k, v in sheets.calls().items() if k in AUTH_CALLS}
    assert auth["POST /token"] == 1
    n = len(sheets.expected_ids())
    figures = [f"authentication, once an hour (not Sheets quota): {auth}"]

    before = sheets.calls()
    batches = list(connector.pull("Invoices", None, fields=[]))
    full = _spent(sheets, before)
    assert full == {BATCH_GET: 1} and len(batches) == -(-n // MAX_BATCH_SIZE)
    figures.append(
        f"full pull of {n} invoice rows: {full[BATCH_GET]} read call, {len(batches)} batches"
    )

    k = 20
    edited = sorted(sheets.expected_ids())[:k]
    for external_id in edited:
        sheets.edit_as_person(external_id)
    before = sheets.calls()
    list(connector.pull("Invoices", None, fields=[]))
    again = _spent(sheets, before)
    assert again == {BATCH_GET: 1}
    figures.append(f"pull after {k} edits (a snapshot: no clock): {again[BATCH_GET]} read call")

    for k in (20, 250):
        items = [
            PushItem(external_id=e, payload={"Sync Status": f"pushed {k}"})
            for e in sorted(sheets.expected_ids())[:k]
        ]
        before = sheets.calls()
        assert len(connector.push("Invoices", items).written) == k
        pushed = _spent(sheets, before)
        assert pushed == {BATCH_GET: 1, VALUES_UPDATE: 1}
        figures.append(
            f"push of {k} write-backs: {pushed[BATCH_GET]} read + {pushed[VALUES_UPDATE]} write"
        )

    before = sheets.calls()
    assert len(connector.fetch("Invoices", edited, fields=[])) == len(edited)
    figures.append(
        f"webhook refresh of {len(edited)} rows: {_spent(sheets, before)[BATCH_GET]} read call"
    )
    connector.close()
    print("\nGoogle Sheets API calls:\n  " + "\n  ".join(figures))  # noqa: T201 (the report)
