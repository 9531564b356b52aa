"""API calls the ShotGrid connector spends, counted by the sandbox at the real page size (500).

Run with `-s` to see the figures:
`.venv/bin/pytest tests/connectors/test_shotgrid_calls.py -s`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from connectors.shotgrid import ShotGridConnector
from connectors.shotgrid.config import MAX_PAGE_SIZE
from syncd.connector import PushItem
from tests.contract.harness_shotgrid import ShotGridHarness

pytestmark = pytest.mark.sandbox

SEARCH = "POST /api/v1/entity/{entity}/_search"
BATCH = "POST /api/v1/entity/_batch"
ISSUES = 1500  # about 1,300 ShotGrid tasks: three pages of 500


@pytest.fixture(scope="module")
def sg() -> Iterator[ShotGridHarness]:
    harness = ShotGridHarness(issues=ISSUES, page_size=MAX_PAGE_SIZE)
    harness.start()
    yield harness
    harness.stop()


def _spent(sg: ShotGridHarness, before: dict[str, int]) -> dict[str, int]:
    after = sg.calls()
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def test_api_calls_for_full_and_incremental_pulls_and_pushes(sg: ShotGridHarness) -> None:
    connector: ShotGridConnector = sg.connector()
    connector.client.retried_access_token()  # one token call, shared by everything below
    n = len(sg.expected_ids())
    figures: list[str] = []

    before = sg.calls()
    cursor = None
    for batch in connector.pull("Task", None, fields=[]):
        cursor = batch.cursor
    full = _spent(sg, before)
    floor = math.ceil(n / MAX_PAGE_SIZE)
    assert full == {SEARCH: floor + 1}  # the pages, and one sweep of the trash
    figures.append(f"full pull of {n} tasks: {full[SEARCH]} list calls (floor {floor})")

    k = 20
    edited = sorted(sg.expected_ids())[:k]
    for external_id in edited:
        sg.edit_as_person(external_id)
    before = sg.calls()
    pulled = [r for b in connector.pull("Task", cursor, fields=[]) for r in b.records]
    incremental = _spent(sg, before)
    assert set(edited) <= {r.external_id for r in pulled} and len(pulled) < 2 * k
    assert incremental == {SEARCH: 2}
    figures.append(f"incremental pull after {k} edits: {incremental[SEARCH]} list calls")

    for k in (20, 250):
        items = [
            PushItem(external_id=e, payload={"sg_jira_status": f"pushed {k}"})
            for e in sorted(sg.expected_ids())[:k]
        ]
        before = sg.calls()
        assert len(connector.push("Task", items).written) == k
        pushed = _spent(sg, before)
        assert pushed == {BATCH: math.ceil(k / connector.config.batch_size)}
        figures.append(f"push of {k} changes: {pushed[BATCH]} _batch calls")

    before = sg.calls()
    assert len(connector.fetch("Task", edited, fields=[])) == len(edited)
    figures.append(f"webhook refresh of {len(edited)} tasks: {_spent(sg, before)[SEARCH]} call")
    print("\nShotGrid API calls:\n  " + "\n  ".join(figures))  # noqa: T201 (the report)
