"""`RollupPublisher`: unchanged tabs are not rewritten, writes are spaced, the last state wins.

The writer here applies requests with the Sheets sandbox's batchUpdate, in process; the
served sandbox and gspread are exercised in test_sheet_sandbox.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.rollups.compute import compute_rollups
from syncd.rollups.flush import RollupPublisher, tab_hash
from syncd.rollups.model import RollupSet
from syncd.rollups.runner import RollupRunner
from syncd.store.store import Store
from syncd_sandbox.sheets.batch import apply_batch
from syncd_sandbox.sheets.metadata import render_spreadsheet
from syncd_sandbox.sheets.state import Spreadsheet
from tests.factories import sqlite_copy
from tests.rollups.build import NOW, data, days, invoice, line, settings, task

PREFIX = "syncd · "
INTERVAL = timedelta(seconds=10)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Writer:
    """A SpreadsheetWriter over an in-memory spreadsheet, counting calls."""

    def __init__(self) -> None:
        self.sheet = Spreadsheet("1Sheet", "Producer sheet")
        self.sheet.add_sheet({"title": "Producer notes"})
        self.reads = self.writes = 0
        self.fail_next = False
        self.last: list[dict[str, Any]] = []

    def metadata(self) -> dict[str, Any]:
        self.reads += 1
        return render_spreadsheet(self.sheet)

    def batch_update(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        self.writes += 1
        self.last = requests
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("429 RESOURCE_EXHAUSTED")
        return {"replies": apply_batch(self.sheet, requests)}


def rollups(vendor: str = "Émile", hours: int = 3) -> RollupSet:
    input_data = data(
        tasks=(task(1, milestone="Beta", status="todo", estimate_hours=hours),),
        budget_lines=(line("Art", amount=10, currency="USD"),),
        invoices=(
            invoice(
                1,
                amount=5,
                currency="USD",
                status="approved",
                budget_line="Art",
                due=days(-3),
                vendor=vendor,
            ),
        ),
    )
    return compute_rollups(input_data, settings(milestones={"Beta": days(9)}))


@pytest.fixture
def store(tmp_path: Path):
    store = Store(sqlite_copy(tmp_path))
    yield store
    store.close()


@pytest.fixture
def clock():
    return Clock()


def publisher(store, writer, clock) -> RollupPublisher:
    return RollupPublisher(
        store, writer, spreadsheet_id="1Sheet", prefix=PREFIX, interval=INTERVAL, clock=clock
    )


def test_first_flush_writes_every_tab_in_one_batch(store, clock):
    writer = Writer()
    result = publisher(store, writer, clock).submit(rollups())
    assert result.written == ("summary", "milestones", "load", "pipeline", "budget", "health")
    assert (writer.reads, writer.writes) == (1, 1)
    assert result.requests > 6


def test_unchanged_content_is_not_written_nor_read(store, clock):
    writer = Writer()
    pub = publisher(store, writer, clock)
    pub.submit(rollups())
    clock.advance(60)
    result = pub.submit(rollups())
    assert result.written == () and len(result.unchanged) == 6
    assert (writer.reads, writer.writes) == (1, 1)
    assert pub.pending is None


def test_only_changed_tabs_are_rewritten(store, clock):
    writer = Writer()
    pub = publisher(store, writer, clock)
    pub.submit(rollups())
    clock.advance(60)
    result = pub.submit(rollups(vendor="Studio Łódź"))  # shown on the budget tab only
    assert result.written == ("budget",)
    assert writer.writes == 2
    budget = writer.sheet.sheet_by_title("syncd · Budget")
    assert budget is not None
    assert f'"sheetId": {budget.sheet_id},' in json.dumps(writer.last)
    others = [s.sheet_id for s in writer.sheet.sheets if s is not budget]
    assert not any(f'"sheetId": {i},' in json.dumps(writer.last) for i in others)


def test_writes_are_spaced_and_the_last_state_wins(store, clock):
    writer = Writer()
    pub = publisher(store, writer, clock)
    pub.submit(rollups(hours=1))
    for hours in range(2, 50):
        clock.advance(0.1)
        assert pub.submit(rollups(hours=hours)).waiting
    assert writer.writes == 1
    assert pub.next_flush_at() == NOW + INTERVAL
    clock.advance(10)
    result = pub.flush()
    assert writer.writes == 2 and "milestones" in result.written
    assert pub.pending is None and pub.flush().written == ()
    milestones = render_spreadsheet(writer.sheet, include_grid_data=True)
    [tab] = [s for s in milestones["sheets"] if s["properties"]["title"] == "syncd · Milestones"]
    estimate = tab["data"][0]["rowData"][2]["values"][8]
    assert estimate["userEnteredValue"] == {"numberValue": 49}  # the last state


def test_a_failed_write_keeps_the_rollups_and_still_waits_the_interval(store, clock):
    writer = Writer()
    pub = publisher(store, writer, clock)
    writer.fail_next = True
    with pytest.raises(RuntimeError):
        pub.submit(rollups())
    assert pub.pending is not None
    clock.advance(1)
    assert pub.flush().waiting  # no hammering a refusing API
    clock.advance(10)
    assert len(pub.flush().written) == 6
    assert writer.writes == 2


def test_a_restart_remembers_what_was_written_and_when(store, clock):
    writer = Writer()
    publisher(store, writer, clock).submit(rollups())
    clock.advance(1)
    again = publisher(store, writer, clock)
    assert again.submit(rollups(vendor="Other")).waiting  # the interval survives the restart
    clock.advance(10)
    assert again.flush().written == ("budget",)
    clock.advance(10)
    assert again.submit(rollups(vendor="Other")).written == ()


def test_a_deleted_tab_comes_back_with_the_next_write_and_force_rewrites_all(store, clock):
    writer = Writer()
    pub = publisher(store, writer, clock)
    pub.submit(rollups())
    pipeline = writer.sheet.sheet_by_title("syncd · Pipeline")
    assert pipeline is not None
    writer.sheet.remove_sheet(pipeline)  # a producer deleted it
    clock.advance(10)
    assert set(pub.submit(rollups(vendor="Other")).written) == {"budget", "pipeline"}
    clock.advance(10)
    pub._state.pending = rollups(vendor="Other")
    assert len(pub.flush(force=True).written) == 6


def test_the_hash_covers_content_and_currency_not_the_time():
    one, two = rollups(), rollups()
    assert [tab_hash(t, "USD") for t in one.tabs] == [tab_hash(t, "USD") for t in two.tabs]
    assert tab_hash(one.tabs[0], "USD") != tab_hash(one.tabs[0], "EUR")
    assert tab_hash(one.tab("milestones"), "USD") != tab_hash(
        rollups(hours=4).tab("milestones"), "USD"
    )


class SheetsApi:
    """The connector side the runner writes through (a `SpreadsheetApi`), over a `Writer`."""

    spreadsheet_id = "1Sheet"

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def spreadsheet_metadata(self, spreadsheet_id: str | None = None) -> dict[str, Any]:
        return self.writer.metadata()

    def batch_update(
        self, requests: Sequence[Mapping[str, Any]], spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        return self.writer.batch_update([dict(r) for r in requests])


def test_the_runner_reports_the_tabs_it_wrote(store):
    # `syncd sync` and `syncd rollup --publish` print this count: it said 0 after writing six.
    writer = Writer()
    runner = RollupRunner(store, settings(), SheetsApi(writer), "1Sheet")
    first = runner.run(force=True)
    titles = {s["properties"]["title"] for s in writer.metadata()["sheets"]}
    ours = sorted(t for t in titles if t.startswith(runner.settings.tab_prefix))
    assert writer.writes == 1 and len(ours) >= 6
    assert len(first.written) == len(ours) and first.unchanged == ()
    again = runner.run()  # within the flush interval: nothing written, and it says so
    assert again.written == () and again.waiting and writer.writes == 1
