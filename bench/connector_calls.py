"""Issue #4's figures: API calls a connector makes, counted by the sandbox, at a given size.

For each tool: a full pull (floor: ceil(N / max page size) list calls + a constant), an
incremental pull after k person edits (O(1) list calls), and pushing k changes (Sheets: one
write call per flush; Jira: one call per edited issue; ShotGrid: one `_batch` per 100).

    python -m bench.connector_calls [--issues 10000] [--edits 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from syncd.connector import PushItem
from syncd.engine import Engine
from syncd.mapping.load import load_mappings
from syncd.registry import build_connector
from syncd.settings import default_mappings_dir
from syncd.store.store import Store
from syncd_sandbox.dataset import generate
from syncd_sandbox.runner import Sandbox

MAX_PAGE = {"jira": 100, "shotgrid": 500, "sheets": 10**9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args()
    production = generate(issues=args.issues, invoices=5000)
    box = Sandbox(production)
    box.start()
    work = Path(tempfile.mkdtemp())
    tables = box.connector_tables(work)
    connectors = {name: build_connector(name, table) for name, table in tables.items()}
    engine = Engine(
        Store(f"sqlite:///{work / 's.sqlite3'}"), connectors, load_mappings(default_mappings_dir())
    )
    k = args.edits
    rows = []
    for name, connector in connectors.items():
        emulator = box.emulators[name]
        emulator.calls.reset()
        report = engine.pull_connector(connector, full=True)
        full = emulator.calls.snapshot()
        records = report.pulled
        # k people edit k records in the tool, then an incremental pull.
        if name == "jira":
            keys = [i.key for i in production.jira_issues if not i.deleted][:k]
            for key in keys:
                box.jira.edit_issue(
                    key, as_user=production.people[0].email, fields={"summary": f"edited {key}"}
                )
        elif name == "shotgrid":
            for task in production.sg_tasks[:k]:
                box.shotgrid.edit_as(
                    production.people[0].email, "Task", task.id, {"content": f"edited {task.id}"}
                )
        else:
            for row in range(2, 2 + k):
                box.sheets.person_edit(
                    production.spreadsheet_id,
                    as_=None,
                    range_=f"'Invoices'!K{row}",
                    values=[["edited"]],
                )
        emulator.calls.reset()
        engine.pull_connector(connector)
        incremental = emulator.calls.snapshot()
        # k pushes, as the engine would send them.
        emulator.calls.reset()
        if name == "jira":
            items = [
                PushItem(external_id=key, payload={"fields": {"summary": f"pushed {key}"}})
                for key in keys
            ]
            connector.push("issue", items)
        elif name == "shotgrid":
            items = [
                PushItem(external_id=str(t.id), payload={"content": f"pushed {t.id}"})
                for t in production.sg_tasks[:k]
            ]
            connector.push("Task", items)
        else:
            numbers = [r[0] for r in production.invoices.rows[1:] if r[0]][:k]
            items = [PushItem(external_id=n, payload={"Sync Status": "ok"}) for n in numbers]
            connector.push("Invoices", items)
        pushed = emulator.calls.snapshot()
        rows.append((name, records, full, incremental, pushed))
    for name, records, full, incremental, pushed in rows:
        floor = -(-records // MAX_PAGE[name]) if name != "sheets" else 2
        print(
            f"\n{name}: full pull of {records:,} records: {sum(full.values())} calls "
            f"(list-call floor {floor}): {full}"
        )
        print(
            f"  incremental pull after {k} edits: {sum(incremental.values())} calls: {incremental}"
        )
        print(f"  push of {k} changes: {sum(pushed.values())} calls: {pushed}")
    box.stop()


if __name__ == "__main__":
    main()
