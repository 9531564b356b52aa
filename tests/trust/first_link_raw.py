"""The sandbox's raw state for the first-link and untranslatable tests, read without syncd.

`Harness` serves the emulators seeded from one production and runs syncd's engine (the real
connectors over HTTP, the shipped mappings, a SQLite store whose clock the test moves).
`tool_state` reads what each tool holds now straight from the emulators' own stores, in
their own vocabulary, so a test compares tools' values, not syncd's view of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.engine import Engine
from syncd.mapping.load import load_mappings
from syncd.model import field_default
from syncd.registry import build_connector, read_only_paths
from syncd.settings import default_mappings_dir
from syncd.store.store import Store
from syncd_sandbox.production import Production
from syncd_sandbox.runner import Sandbox, SandboxOptions
from tests.factories import sqlite_copy

TaskState = dict[str, Any]  # one record's values as its tool holds them


@dataclass
class Clock:
    """The store's clock, moved by the test (pushes retried later become due at once)."""

    now: datetime = field(default_factory=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        """Move the clock on."""
        self.now += by


class Harness:
    """The emulators of one production and a syncd engine talking to them over HTTP."""

    def __init__(
        self,
        production: Production,
        workdir: Path,
        options: SandboxOptions | None = None,
        mappings_dir: Path | None = None,
        connector_settings: dict[str, Any] | None = None,
    ) -> None:
        self.production = production
        self.box = Sandbox(production, options)
        self.box.start()
        tables = self.box.connector_tables(workdir)
        for table in tables.values():
            table.update(connector_settings or {})
        self.connectors = {name: build_connector(name, table) for name, table in tables.items()}
        self.clock = Clock()
        self.store = Store(sqlite_copy(workdir), clock=self.clock)
        mappings = load_mappings(mappings_dir or default_mappings_dir(), read_only_paths())
        self.engine = Engine(self.store, self.connectors, mappings)

    def close(self) -> None:
        """Stop the emulators and close the store."""
        for connector in self.connectors.values():
            close = getattr(connector, "close", None)
            if close is not None:
                close()
        self.store.close()
        self.box.stop()

    def knobs(self, tool: str, **values: Any) -> None:
        """Turn one emulator's knobs (faults, page sizes) in place."""
        knobs = self.box.emulators[tool].knobs  # type: ignore[attr-defined]
        for name, value in values.items():
            setattr(knobs, name, value)


def jira_state(box: Sandbox, production: Production) -> dict[str, TaskState]:
    """Every live issue's fields syncd maps, as Jira holds them now, by key."""
    state: dict[str, TaskState] = {}
    for issue in production.jira_issues:
        if issue.deleted:
            continue
        fields = box.jira.issue(issue.key)["fields"]
        names = {k: v for k, v in fields.items() if not k.startswith("customfield_")}
        custom = {k: v for k, v in fields.items() if k.startswith("customfield_")}
        state[issue.key] = {
            "summary": names["summary"],
            "status": names["status"]["name"],
            "assignee": (names.get("assignee") or {}).get("accountId"),
            "duedate": names.get("duedate"),
            "labels": sorted(names.get("labels") or []),
            "custom": {k: _plain(v) for k, v in sorted(custom.items())},
        }
    return state


def _plain(value: Any) -> Any:
    """A Jira field value without its server addresses (options keep their value)."""
    if isinstance(value, dict):
        return value.get(
            "value", value.get("name", {k: v for k, v in value.items() if k != "self"})
        )
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def shotgrid_state(box: Sandbox, production: Production) -> dict[int, TaskState]:
    """Every task's attributes syncd maps, as ShotGrid holds them now, by id."""
    fields = (
        "content,sg_status_list,task_assignees,due_date,est_in_mins,"
        "sg_milestone,sg_jira_key,sg_jira_status"
    )
    state: dict[int, TaskState] = {}
    for task in production.sg_tasks:
        attributes = box.shotgrid.record("Task", task.id, fields)["attributes"]
        state[task.id] = dict(attributes)
    return state


def tool_state(box: Sandbox, production: Production) -> dict[str, Any]:
    """What Jira and ShotGrid hold now (the sheet is read-only to syncd for tasks)."""
    return {"jira": jira_state(box, production), "shotgrid": shotgrid_state(box, production)}


def changed(before: dict[str, Any], after: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(tool, record, field) of every value that differs between two states: the writes."""
    for tool, records in after.items():
        for key, values in records.items():
            for name, value in values.items():
                if before[tool][key].get(name) != value:
                    yield tool, str(key), name


def stored_state(harness: Harness) -> dict[str, Any]:
    """syncd's records, named by their live links (ids differ from run to run): the fields
    that are not in conflict, and each open conflict's candidates (which value a record
    shows while a conflict is open is another question, issue #15 finding 5)."""
    with harness.store.transaction() as tx:
        ids = [str(r) for (r,) in tx.conn.exec_driver_sql("select id from records")]
        views = tx.records.load(ids)
        links = tx.links.of_records(ids)
        failed = tx.outbox.failed_by_connector()
    records: dict[tuple[tuple[str, str, str], ...], dict[str, Any]] = {}
    for record_id, view in views.items():
        names = tuple(sorted(r.key for r in links.get(record_id, []) if not r.deleted))
        # A field never set and one set to its default hold the same value.
        fields = {
            k: v
            for k, v in view.fields.items()
            if k not in view.conflicts and v != field_default(view.kind, k)
        }
        fields["conflicts"] = {k: c.candidates for k, c in sorted(view.conflicts.items())}
        fields["flags"] = sorted(view.flags)
        fields.pop("synced_at", None)  # the time of the run
        records[names] = fields
    return {"records": records, "failed_writes": failed}
