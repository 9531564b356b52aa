"""A burst of 1,000 edits across the three tools within a minute: the consolidated sheet is
right at the end, and syncd's writes to Google Sheets stay inside the write quota.

Prints the figure (Sheets write calls in the busiest minute) for the issue note.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from syncd_sandbox.dataset import generate
from syncd_sandbox.stack import Stack
from tests.e2e.settle import settled

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

EDITS = 1000
WITHIN_SECONDS = 45.0
WRITE_QUOTA_PER_MINUTE = 60  # Google's per-user write quota


def _writes(calls: dict[str, int]) -> int:
    return sum(
        n
        for endpoint, n in calls.items()
        if endpoint.startswith(("POST", "PUT")) and "token" not in endpoint
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack(
        generate(seed=5, issues=200), workers=1, settings={"rollup": {"flush_interval_seconds": 5}}
    )
    stack.service.engine.sync()
    yield stack
    stack.close()


def test_a_burst_of_1000_edits_ends_with_a_correct_sheet_inside_the_quota(stack: Stack) -> None:
    production, box = stack.production, stack.box
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.monotonic(), _writes(box.sheets.calls.snapshot())))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    person = production.people[1].email
    tasks = [task for task in production.sg_tasks if task.status in ("wtg", "rdy", "ip")][:60]
    issues = [issue for issue in production.jira_issues if not issue.deleted][:60]
    header = list(production.invoices.rows[0])
    status_column = chr(ord("A") + header.index("Status"))
    invoice_rows = [
        n
        for n, row in enumerate(production.invoices.rows[1:], start=2)
        if row[0] and row[header.index("Status")] in ("Approved", "Paid")
    ][:30]
    started = time.monotonic()
    for n in range(EDITS):
        tool = n % 3
        if tool == 0:
            task = tasks[n % len(tasks)]
            box.shotgrid.edit_as(
                person, "Task", task.id, {"sg_status_list": ("ip", "rev", "apr")[n // 3 % 3]}
            )
        elif tool == 1:
            issue = issues[n % len(issues)]
            box.jira.edit_issue(issue.key, as_user=person, fields={"summary": f"burst {n}"})
        else:
            row = invoice_rows[n % len(invoice_rows)]
            box.sheets.person_edit(
                production.spreadsheet_id,
                as_=person,
                range_=f"'Invoices'!{status_column}{row}",
                values=[[("Approved", "Paid")[n // 3 % 2]]],
            )
        ahead = started + WITHIN_SECONDS * (n + 1) / EDITS - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    burst_seconds = time.monotonic() - started
    assert burst_seconds < 60
    deadline = time.monotonic() + 120
    while not settled(stack):
        assert time.monotonic() < deadline, "the burst did not settle in two minutes"
        time.sleep(0.5)
    done.set()
    sampler.join()

    # The sheet shows what the store holds: the pipeline matrix, cell by cell.
    runner = stack.service.rollups
    assert runner is not None
    tab = next(tab for tab in runner.compute().tabs if tab.key == "pipeline")
    matrix = next(table for table in tab.tables if table.key == "pipeline_matrix")
    title = f"{stack.settings.rollup.tab_prefix}{tab.title}"
    sheet = box.sheets.values(production.spreadsheet_id, f"'{title}'")
    start = next(i for i, row in enumerate(sheet) if row[:1] == ["Asset"])
    for expected, shown in zip(matrix.rows, sheet[start + 1 :], strict=False):
        cells = ["" if value is None else str(value) for value in expected]
        assert shown + [""] * (len(cells) - len(shown)) == cells

    # Sheets write calls in the busiest minute (sliding window), against the quota.
    busiest = max(
        (
            later - earlier
            for (t0, earlier) in samples
            for (t1, later) in samples
            if 0 <= t1 - t0 <= 60
        ),
        default=0,
    )
    print(  # noqa: T201 - the figure for the issue note (run with -s)
        f"\n{EDITS} edits in {burst_seconds:.0f} s; Sheets write calls in the busiest "
        f"minute: {busiest} (quota {WRITE_QUOTA_PER_MINUTE})"
    )
    assert busiest <= WRITE_QUOTA_PER_MINUTE
