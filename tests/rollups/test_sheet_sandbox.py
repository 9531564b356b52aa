"""The consolidated sheet end to end, on the served Sheets sandbox, through the real gspread.

1. The independent check: the seeded production (seed 7) is translated into records
   (seeded.py), the rollups are computed and published by `RollupPublisher` through a
   gspread writer, then read back with gspread (values, number formats, conditional
   formats, charts) and compared cell by cell with figures computed straight from the
   records by the tests' own code (expected.py). The producer's tabs stay untouched.
2. The quota: a burst of 1,000 changes, with Google's quotas on in the sandbox, stays
   far below 60 writes a minute, and the last state is what the sheet shows.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gspread
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.sheets.local_http import local_http_client
from syncd.rollups.compute import compute_rollups
from syncd.rollups.flush import RollupPublisher
from syncd.settings import RollupSettings
from syncd.store.store import Store
from syncd_sandbox.dataset import EPOCH_AT, generate
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.sheets import QuotaLimits, SheetsSandbox
from tests.factories import sqlite_copy
from tests.rollups.build import data, days, settings, task
from tests.rollups.expected import Config, Expected
from tests.rollups.seeded import Translation
from tests.rollups.sheet_reader import check_tab, grid, text

pytestmark = pytest.mark.sandbox

PREFIX = "syncd · "
BATCH_UPDATE = "POST /v4/spreadsheets/{spreadsheet_id}:batchUpdate"
GET_SPREADSHEET = "GET /v4/spreadsheets/{spreadsheet_id}"
LINKS = {
    "jira": "https://harbor.atlassian.net/browse/{external_id}",
    "shotgrid": "https://harbor.shotgrid.autodesk.com/detail/{entity}/{external_id}",
}


class Clock:
    """The sandbox's and the publisher's clock: real time, moved on by the test."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.now = now.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class GspreadWriter:
    """The `SpreadsheetWriter` the Sheets connector will provide, over gspread."""

    def __init__(self, spreadsheet: gspread.Spreadsheet, clock: Clock | None = None) -> None:
        self.spreadsheet, self.clock = spreadsheet, clock
        self.write_times: list[datetime] = []

    def metadata(self) -> dict[str, Any]:
        return dict(self.spreadsheet.fetch_sheet_metadata())

    def batch_update(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        if self.clock is not None:
            self.write_times.append(self.clock())
        reply: dict[str, Any] = self.spreadsheet.batch_update({"requests": requests})
        return reply


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail if anything (google-auth's background lookups too) resolves a real host."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(str(host))
            raise socket.gaierror(f"test tried to reach {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts
    assert attempts == []


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def production():
    return generate(seed=7)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(rsa_key, clock, production) -> Iterator[SheetsSandbox]:
    box = SheetsSandbox(private_key=rsa_key, clock=clock)  # Google's quotas are on
    box.seed(production)
    yield box
    box.close()


@pytest.fixture
def served(sandbox) -> Iterator[ServedApp]:
    server = ServedApp.start(sandbox.create_app())
    yield server
    server.stop()


@pytest.fixture
def spreadsheet(sandbox, served, production) -> gspread.Spreadsheet:
    info = sandbox.service_account_info(f"{served.url}/token")
    client = gspread.service_account_from_dict(info, http_client=local_http_client(served.url))
    return client.open_by_key(production.spreadsheet_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(sqlite_copy(tmp_path))
    yield store
    store.close()


def calls(served: ServedApp) -> Counter[str]:
    return Counter(httpx.get(f"{served.url}/_sandbox/calls").json())


def seeded_settings(production) -> RollupSettings:
    return RollupSettings(
        milestones={m.name: m.due for m in production.milestones},
        capacity_hours_per_week={d.name: d.capacity_hours_per_week for d in production.departments},
        departments=[d.name for d in production.departments],
        # No CAD rate: invoices in CAD must be flagged, never converted 1:1.
        rates={"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067},
        pipeline_steps=[s.name for s in production.steps],
        record_links=LINKS,
    )


def expected_config(production) -> Config:
    return Config(
        milestones={m.name: m.due for m in production.milestones},
        capacity={d.name: d.capacity_hours_per_week for d in production.departments},
        departments=[d.name for d in production.departments],
        rates={"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067},
        steps=[s.name for s in production.steps],
    )


def test_the_sheet_shows_the_seeded_productions_figures_cell_by_cell(
    production, spreadsheet, served, store
):
    producer_tabs = {ws.title: ws.get_all_values() for ws in spreadsheet.worksheets()}
    producer_props = {
        s["properties"]["title"]: s["properties"]
        for s in spreadsheet.fetch_sheet_metadata()["sheets"]
    }
    input_data = Translation(production, EPOCH_AT).rollup_input()
    rollups = compute_rollups(input_data, seeded_settings(production))
    writer = GspreadWriter(spreadsheet)
    publisher = RollupPublisher(store, writer, spreadsheet_id=production.spreadsheet_id,
                                prefix=PREFIX)  # fmt: skip
    before = calls(served)
    result = publisher.submit(rollups)
    used = calls(served) - before
    assert used == {GET_SPREADSHEET: 1, BATCH_UPDATE: 1}  # one read, ONE write
    assert len(result.written) == 6

    meta = spreadsheet.fetch_sheet_metadata({"includeGridData": "true"})
    sheets = {s["properties"]["title"]: s for s in meta["sheets"]}
    expected = Expected(input_data, expected_config(production)).tabs()
    assert list(sheets) == ["Invoices", "Budget", *expected]
    firsts = {title: check_tab(title, sheets[title], tables) for title, tables in expected.items()}

    # The producer's tabs: the same values, the same properties.
    for title, values in producer_tabs.items():
        assert spreadsheet.worksheet(title).get_all_values() == values
        assert sheets[title]["properties"] == producer_props[title]
        assert "charts" not in sheets[title] and "conditionalFormats" not in sheets[title]

    # Every tab: the question on top, frozen with the first header.
    for title in expected:
        cells = grid(sheets[title])
        assert (text(cells, 0, 0) or "").startswith(rollups.tab(_key(title)).question)
        assert sheets[title]["properties"]["gridProperties"]["frozenRowCount"] == 2

    check_links(sheets["syncd · Sync health"], expected["syncd · Sync health"][1].rows,
                firsts["syncd · Sync health"]["Open conflicts"], input_data)  # fmt: skip
    check_conditional_formats(sheets, firsts, expected)
    check_charts(sheets, firsts, expected)


def _key(title: str) -> str:
    return {"Sync health": "health"}.get(
        title.removeprefix(PREFIX), title.removeprefix(PREFIX).lower()
    )


def check_links(sheet, rows, first_row, input_data) -> None:
    """Conflicts link to the record in each tool."""
    cells = grid(sheet)
    sources = {e.id: e.sources for e in input_data.tasks}
    conflicts = sorted(input_data.conflicts, key=lambda c: (c.opened_at, c.id))
    assert len(conflicts) == len(rows) > 0
    for offset, conflict in enumerate(conflicts):
        refs = {s.connector: s for s in sources[conflict.record_id]}
        for col, tool in ((6, "jira"), (7, "shotgrid")):
            ref = refs[tool]
            url = LINKS[tool].format(entity=ref.entity, external_id=ref.external_id)
            fmt = cells[first_row + offset][col]["userEnteredFormat"]
            assert fmt["textFormat"]["link"] == {"uri": url}


def _rules(sheet) -> list[tuple[str, list[str], int, int, int]]:
    """(condition type, values, column, first row, end row) of each conditional format."""
    out = []
    for rule in sheet.get("conditionalFormats", []):
        [grid_range] = rule["ranges"]
        condition = rule["booleanRule"]["condition"]
        values = [v["userEnteredValue"] for v in condition.get("values", [])]
        out.append((condition["type"], values, grid_range["startColumnIndex"],
                    grid_range["startRowIndex"], grid_range["endRowIndex"]))  # fmt: skip
    return out


def check_conditional_formats(sheets, firsts, expected) -> None:
    """Overdue counts and dates, over-budget variance and burn, late milestones: red rules."""

    def span(title, table_index):
        table = expected[title][table_index]
        first = firsts[title][table.title]
        return first, first + len(table.rows)

    budget = _rules(sheets["syncd · Budget"])
    first, end = span("syncd · Budget", 0)
    assert ("NUMBER_LESS", ["0"], 7, first, end) in budget  # variance < 0
    assert ("NUMBER_GREATER", ["1.0"], 8, first, end) in budget  # burn > 100%
    first, end = span("syncd · Budget", 2)
    assert ("NUMBER_GREATER", ["0"], 5, first, end) in budget  # days overdue
    milestones = _rules(sheets["syncd · Milestones"])
    first, end = span("syncd · Milestones", 0)
    for word in ("behind", "overdue", "stalled"):
        assert ("TEXT_EQ", [word], 2, first, end) in milestones
    assert ("NUMBER_GREATER", ["0"], 13, first, end) in milestones  # overdue tasks
    assert ("NUMBER_LESS", ["0"], 4, first, end) in milestones  # negative slack
    load = _rules(sheets["syncd · Load"])
    first, end = span("syncd · Load", 0)
    assert ("NUMBER_GREATER", ["1.0"], 5, first, end) in load  # load above capacity
    summary = _rules(sheets["syncd · Summary"])
    assert ("NUMBER_GREATER", ["0"], 1, 5, 6) in summary  # the overdue tasks figure


def check_charts(sheets, firsts, expected) -> None:
    """Burn-up, budget burn per line and pipeline status charts, reading the right ranges."""
    wanted = {
        "syncd · Milestones": (1, "LINE", ["Week ending"], ["Done (h)", "Scope (h)",
                                                            "Projected (h)"]),
        "syncd · Budget": (0, "BAR", ["Budget line"], ["Budget", "Approved", "Paid"]),
        "syncd · Pipeline": (0, "BAR", ["Asset type"], ["On hold", "Waiting", "Ready",
                                                        "In progress", "Review", "Approved",
                                                        "Final", "Omitted", "Unknown"]),
    }  # fmt: skip
    for title, sheet in sheets.items():
        if title not in wanted:
            assert "charts" not in sheet, title
            continue
        index, chart_type, domain, series = wanted[title]
        table = expected[title][index]
        [chart] = sheet["charts"]
        basic = chart["spec"]["basicChart"]
        assert basic["chartType"] == chart_type
        assert basic["headerCount"] == 1
        first = firsts[title][table.title]
        span = (first - 1, first + len(table.rows))  # from the header row, which names series
        headers = [h for h, _ in table.columns]
        assert [_column(d["domain"], span, headers) for d in basic["domains"]] == domain
        assert [_column(s["series"], span, headers) for s in basic["series"]] == series
    assert sheets["syncd · Pipeline"]["charts"][0]["spec"]["basicChart"]["stackedType"] == (
        "STACKED"
    )


def _column(source: dict[str, Any], span: tuple[int, int], headers: list[str]) -> str:
    """The header of the one column a chart source reads, checking it reads the whole table."""
    [grid_range] = source["sourceRange"]["sources"]
    assert (grid_range["startRowIndex"], grid_range["endRowIndex"]) == span
    assert grid_range["endColumnIndex"] == grid_range["startColumnIndex"] + 1
    return headers[int(grid_range["startColumnIndex"])]


# -- the write quota ------------------------------------------------------------------------


def small_rollups(n: int):
    tasks = (task(1, milestone="Beta", status="todo", estimate_hours=n, due_date=days(3)),)
    return compute_rollups(data(tasks=tasks), settings(milestones={"Beta": days(30)}))


def test_a_burst_of_1000_changes_stays_inside_the_write_quota(
    sandbox, spreadsheet, served, store, clock
):
    # The sandbox answers 429 past 60 writes a minute per user, like Google.
    assert sandbox.quotas.limits == QuotaLimits()
    writer = GspreadWriter(spreadsheet, clock)
    publisher = RollupPublisher(store, writer, spreadsheet_id=spreadsheet.id, prefix=PREFIX,
                                interval=timedelta(seconds=10), clock=clock)  # fmt: skip
    before = calls(served)
    for change in range(1, 1001):  # 1,000 changes over 5 minutes: one every 0.3 s
        publisher.submit(small_rollups(change))
        clock.advance(0.3)
    clock.advance(10)
    publisher.flush()  # the last change, once the interval allows
    used = calls(served) - before
    writes = used[BATCH_UPDATE]
    per_minute = Counter(at.replace(second=0, microsecond=0) for at in writer.write_times)
    assert writes == len(writer.write_times) <= 32
    assert max(per_minute.values()) <= 6 < 60
    assert used[GET_SPREADSHEET] == writes  # one metadata read per write
    sheet = spreadsheet.fetch_sheet_metadata({"includeGridData": "true"})
    [milestones] = [s for s in sheet["sheets"] if s["properties"]["title"] == "syncd · Milestones"]
    estimate = grid(milestones)[2][8]
    assert estimate["userEnteredValue"] == {"numberValue": 1000}  # the last state won


def test_without_the_publisher_the_same_burst_hits_the_quota(spreadsheet, clock):
    """The control: writing every change at once is refused by the 61st write of a minute."""
    ws = spreadsheet.add_worksheet(f"{PREFIX}Scratch", rows=5, cols=2)
    requests = [{"updateCells": {"start": {"sheetId": ws.id, "rowIndex": 0, "columnIndex": 0},
                                 "rows": [{"values": [{"userEnteredValue": {"numberValue": 1}}]}],
                                 "fields": "userEnteredValue"}}]  # fmt: skip
    with pytest.raises(gspread.exceptions.APIError) as refused:
        for _ in range(100):
            spreadsheet.batch_update({"requests": requests})
            clock.advance(0.3)
    assert refused.value.code == 429
