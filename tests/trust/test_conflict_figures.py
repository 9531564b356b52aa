"""Deterministic figures under conflict (issue #15, finding 5): the same production synced
fresh several times, the tools' pages arriving in a different order each time, publishes
the same milestone and load figures, and they are the ones computed here from the raw data.

The rule under test (docs/producers/conflicts-and-dry-run.md): a field in conflict counts
with the value the tools last agreed on; a task whose statuses disagreed from the first
link has none, so it counts as open work, neither done nor blocked.

The order is shuffled three ways per run: which tool is read first (one connector fully
before the others), the page size each emulator serves (pages interleave differently), and
the latency of each tool (which reader gets ahead). The expected figures come from the
production's own records through the tests' translation (tests/rollups/seeded.py, no
syncd code) and plain counting below.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from syncd_sandbox.dataset import generate
from syncd_sandbox.production import Production
from syncd_sandbox.runner import SandboxOptions
from syncd_sandbox.stack import Stack
from tests.rollups.seeded import Translation

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

RUNS = 5
TOOLS = ("jira", "shotgrid", "sheets")
Figures = dict[str, dict[str, tuple[int, ...]]]


def _table(
    rows: list[list[Any]], first_header: str, wanted: tuple[str, ...]
) -> dict[str, tuple[int, ...]]:
    """A table of a published tab: its first column -> the wanted columns, as integers."""
    at = next(n for n, row in enumerate(rows) if row and row[0] == first_header)
    header = rows[at]
    columns = [header.index(name) for name in wanted]
    found = {}
    for row in rows[at + 1 :]:
        if not row or not row[0] or len(row) <= max(columns):
            break
        found[str(row[0])] = tuple(int(str(row[c]).replace(",", "")) for c in columns)
    return found


def _published(stack: Stack) -> Figures:
    """The figures as the consolidated sheet shows them."""
    prefix = stack.settings.rollup.tab_prefix
    sheet = stack.production.spreadsheet_id
    milestones = stack.box.sheets.values(sheet, f"'{prefix}Milestones'")
    load = stack.box.sheets.values(sheet, f"'{prefix}Load'")
    return {
        "milestones": _table(milestones, "Milestone", ("Tasks", "Done", "Overdue", "Blocked")),
        "departments": _table(load, "Department", ("Open tasks", "Overdue", "Blocked")),
    }


def _expected(production: Production, now: datetime) -> Figures:
    """The same figures, counted from the production's records."""
    tasks = [e.record for e in Translation(production, now).tasks()]
    today = now.date()
    scoped = [t for t in tasks if t.status != "omitted"]
    open_ = [t for t in scoped if t.status != "done"]

    def overdue(t: Any) -> bool:
        return t.status not in ("done", "omitted") and t.due_date is not None and t.due_date < today

    milestones: dict[str, tuple[int, ...]] = {}
    for name in sorted({t.milestone for t in scoped if t.milestone}):
        mine = [t for t in scoped if t.milestone == name]
        milestones[name] = (
            len(mine),
            sum(t.status == "done" for t in mine),
            sum(overdue(t) for t in mine),
            sum(t.status == "blocked" for t in mine),
        )
    by_department = Counter(t.department or "(no department)" for t in open_)
    departments: dict[str, tuple[int, ...]] = {
        name: (
            count,
            sum(overdue(t) for t in open_ if (t.department or "(no department)") == name),
            sum(
                t.status == "blocked" for t in open_ if (t.department or "(no department)") == name
            ),
        )
        for name, count in by_department.items()
    }
    return {"milestones": milestones, "departments": departments}


def _run(production: Production, shuffle: random.Random) -> tuple[Figures, int]:
    """A fresh sync in a shuffled order; the published figures and the conflicts opened."""
    options = SandboxOptions(
        latency_ms=shuffle.choice((0.0, 2.0)),
        jitter_ms=shuffle.choice((0.0, 6.0)),
        knobs={
            tool: {
                "page_size_cap": shuffle.choice((None, 7, 25, 60)),
                "seed": shuffle.randrange(1 << 30),  # each tool's own jitter
            }
            for tool in TOOLS
        },
    )
    stack = Stack(production, sandbox=options, workers=0)
    try:
        order = list(TOOLS)
        shuffle.shuffle(order)
        engine = stack.service.engine
        for name in order[: shuffle.randrange(len(order))]:
            engine.sync(only=[name], push=False)  # this tool's pages first
        report = engine.sync()
        assert not report.errors, report.errors
        assert stack.service.rollups is not None
        stack.service.rollups.run(force=True)
        with stack.service.store.snapshot() as tx:
            conflicts = len(tx.conflicts.find(status="open", limit=10**6))
        return _published(stack), conflicts
    finally:
        stack.close()


def test_figures_under_conflict_are_the_same_whatever_the_arrival_order() -> None:
    production = generate(seed=5, issues=160)
    shuffle = random.Random(15)
    runs = [_run(production, shuffle) for _ in range(RUNS)]
    figures = [f for f, _ in runs]
    assert all(conflicts > 0 for _, conflicts in runs)  # the case: statuses in conflict
    assert all(f == figures[0] for f in figures[1:]), figures
    expected = _expected(production, datetime.now(UTC))
    assert figures[0]["milestones"] == expected["milestones"]
    assert figures[0]["departments"] == expected["departments"]
