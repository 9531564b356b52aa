"""`syncd demo`: the whole loop against the sandbox, in about a minute, no accounts needed.

1. Start the three emulators (seeded production "Harbor Lights") and syncd, wired by webhooks.
2. First sync: everything read, linked across tools, reconciled.
3. A person's edit in ShotGrid reaches Jira through webhooks alone; one in Jira reaches
   ShotGrid; an invoice paid in the sheet is seen at once.
4. Two people change the same task in two tools: a conflict for a person to settle, then
   the decision reaches both tools.
5. A forged webhook is refused.
6. The consolidated picture as tables, and where to look next.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from syncd.rollups.terminal import print_tab
from syncd_sandbox.dataset import generate
from syncd_sandbox.production import Production
from syncd_sandbox.runner import SandboxOptions
from syncd_sandbox.stack import Stack, linked_pairs

TIMEOUT = 20.0
DEMO_ADMIN_TOKEN = "demo-admin-token"  # a local, throw-away service: printed on purpose


def _wait(check: Callable[[], bool], timeout: float = TIMEOUT) -> float | None:
    """Seconds until `check()` held, or None if it never did."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if check():
            return time.perf_counter() - started
        time.sleep(0.05)
    return None


def _linked_pair(production: Production) -> tuple[str, int]:
    """A Jira issue and the ShotGrid task it tracks, linked both ways, statuses agreeing."""
    pairs = linked_pairs(production, sg_status="ip") or linked_pairs(production)
    if not pairs:
        raise RuntimeError("the seeded production has no task linked both ways")
    return pairs[0]


class Demo:
    """One run of the tour."""

    def __init__(self, console: Console) -> None:
        self.out = console
        self.production = generate(seed=7)
        self.stack = Stack(
            self.production,
            sandbox=SandboxOptions(latency_ms=10),
            settings={
                "api": {"admin_tokens": {"demo": DEMO_ADMIN_TOKEN}},
                # What a producer puts in [rollup.milestones]: the plan's milestone dates.
                "rollup": {"milestones": {m.name: m.due for m in self.production.milestones}},
            },
        )
        self.box, self.service, self.served = (
            self.stack.box,
            self.stack.service,
            self.stack.served,
        )

    def step(self, title: str) -> None:
        self.out.rule(f"[bold]{title}")

    def run(self, *, keep_running: bool) -> int:
        p = self.production
        self.out.print(
            Panel.fit(
                f"[bold]{p.name}[/bold]: {len(p.jira_issues)} Jira issues, {len(p.sg_tasks)} "
                f"ShotGrid tasks, {len(p.assets) + len(p.shots)} assets and shots, "
                f"{len(p.invoices.rows) - 1} invoice rows\n"
                f"sandbox: Jira {self.box.url('jira')}  ShotGrid {self.box.url('shotgrid')}  "
                f"Sheets {self.box.url('sheets')}\nsyncd:   {self.served.url}",
                title="syncd demo",
            )
        )
        self.first_sync()
        key, task_id = _linked_pair(p)
        ok = self.shotgrid_to_jira(key, task_id)
        ok &= self.jira_to_shotgrid(key, task_id)
        ok &= self.sheet_edit()
        ok &= self.conflict(key, task_id)
        ok &= self.forged()
        ok &= self.consolidated_sheet()
        self.summary()
        if keep_running:
            self.out.print("still running: Ctrl-C stops")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return 0 if ok else 1

    def first_sync(self) -> None:
        self.step("1. First sync: read the three tools, link, reconcile")
        started = time.perf_counter()
        report = self.service.engine.sync()
        took = time.perf_counter() - started
        table = Table("read", "records", "fields set", "conflicts", "written back", "errors")
        table.add_row(
            str(report.pulled),
            str(report.created),
            str(report.changed_fields),
            str(report.conflicts_opened),
            str(report.pushed),
            str(len(report.errors)),
        )
        self.out.print(table)
        self.out.print(
            f"took {took:.1f} s. Conflicts are the seeded disagreements between "
            "linked tasks and tickets; they wait for a person (step 4)."
        )

    def shotgrid_to_jira(self, key: str, task_id: int) -> bool:
        self.step("2. An artist sets a ShotGrid task to Pending Review")
        artist = self.production.people[1].email
        self.box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "rev"})
        self.out.print(f"ShotGrid Task {task_id}: sg_status_list -> rev (by {artist})")

        def jira_in_review() -> bool:
            fields = self.box.jira.issue(key)["fields"]
            return bool(fields["status"]["name"] == "In Review")

        seconds = _wait(jira_in_review)
        if seconds is None:
            self.out.print(f"[red]{key} did not reach In Review within {TIMEOUT:.0f} s")
            return False
        self.out.print(
            f"Jira {key}: status 'In Review' after {seconds:.2f} s "
            "(webhook -> inbox -> worker -> transition)"
        )
        return True

    def jira_to_shotgrid(self, key: str, task_id: int) -> bool:
        self.step("3. A producer renames the Jira ticket")
        producer = self.production.people[0].email
        # The shipped mappings relate the two titles: Jira's "[<asset>] <step>" is the task's
        # content in ShotGrid. The producer keeps the convention and renames the step part.
        summary = str(self.box.jira.issue(key)["fields"]["summary"])
        asset, _, _ = summary.partition("] ")
        title = "Final texture pass"
        self.box.jira.edit_issue(key, as_user=producer, fields={"summary": f"{asset}] {title}"})

        def renamed() -> bool:
            return bool(self.box.shotgrid.record("Task", task_id)["attributes"]["content"] == title)

        seconds = _wait(renamed)
        if seconds is None:
            self.out.print(f"[red]ShotGrid Task {task_id} was not renamed")
            return False
        self.out.print(
            escape(
                f"Jira {key}: {summary!r} -> '{asset}] {title}'; ShotGrid Task {task_id}: "
                f"content = {title!r} after {seconds:.2f} s (the [asset] prefix is Jira's "
                "convention, related by the mapping's template: not copied into ShotGrid)"
            )
        )
        return True

    def sheet_edit(self) -> bool:
        self.step("4. Accounting marks an invoice Paid in the budget sheet")
        rows = self.production.invoices.rows
        header = list(rows[0])
        row_number, number = next(
            (n, r[0])
            for n, r in enumerate(rows[1:], start=2)
            if r[0] and r[header.index("Status")] == "Approved"
        )
        column = chr(ord("A") + header.index("Status"))
        self.box.sheets.person_edit(
            self.production.spreadsheet_id,
            as_="accounts@tidewatergames.example",
            range_=f"'Invoices'!{column}{row_number}",
            values=[["Paid"]],
        )

        def paid() -> bool:
            with self.service.store.transaction() as tx:
                linked = tx.records.fields_linked_from("sheets", number)
            return bool(linked) and linked[0].get("status") == "paid"

        seconds = _wait(paid)
        if seconds is None:
            self.out.print(f"[red]invoice {number} was not seen as paid")
            return False
        self.out.print(
            f"invoice {number}: status paid in syncd after {seconds:.2f} s "
            "(Apps Script webhook -> tab re-read)"
        )
        return True

    def conflict(self, key: str, task_id: int) -> bool:
        self.step("5. Two people move the same work two ways: a conflict")
        self.service.stop()  # hold the worker so both edits land before either is applied
        artist, lead = self.production.people[1].email, self.production.people[2].email
        self.box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "ip"})
        self.box.jira.edit_issue(key, as_user=lead, status="Blocked")
        self.stack.flush_webhooks()
        self.service.start()
        conflicts: list[Any] = []

        def opened() -> bool:
            with self.service.store.transaction() as tx:
                conflicts[:] = [
                    c
                    for c in tx.conflicts.find()
                    if c.field == "status"
                    and set(c.candidates.values()) == {"in_progress", "blocked"}
                ]
            return bool(conflicts)

        if _wait(opened) is None:
            self.out.print("[red]no conflict was opened")
            return False
        row = conflicts[0]
        table = Table("conflict", "field", "base", "ShotGrid says", "Jira says")
        table.add_row(
            str(row.id),
            row.field,
            str(row.base),
            str(row.candidates.get("shotgrid")),
            str(row.candidates.get("jira")),
        )
        self.out.print(table)
        self.out.print("nothing was overwritten. The producer decides: blocked.")
        self.service.engine.resolve_conflict(row.record_id, "status", "blocked", by="producer")
        self.service.services.wake_worker.set()
        for name in self.service.connectors:
            self.service.engine.push_pending(name)

        def settled() -> bool:
            sg = self.box.shotgrid.record("Task", task_id)["attributes"]["sg_status_list"]
            jira = self.box.jira.issue(key)["fields"]["status"]["name"]
            return bool(sg == "hld" and jira == "Blocked")

        if _wait(settled) is None:
            self.out.print("[red]the decision did not reach both tools")
            return False
        self.out.print(f"ShotGrid Task {task_id}: hld, Jira {key}: Blocked")
        return True

    def forged(self) -> bool:
        self.step("6. A forged webhook")
        body = json.dumps(
            {"webhookEvent": "jira:issue_updated", "issue": {"key": "HRB-1"}}
        ).encode()
        response = httpx.post(
            f"{self.served.url}/webhooks/jira",
            content=body,
            headers={"X-Hub-Signature": "sha256=" + "0" * 64, "content-type": "application/json"},
        )
        self.out.print(f"answered {response.status_code}: {response.json().get('detail')}")
        return response.status_code == 401

    def consolidated_sheet(self) -> bool:
        self.step("7. The consolidated producer sheet")
        runner = self.service.rollups
        if runner is None:
            self.out.print("[red]no Sheets connector to write the consolidated sheet")
            return False
        result = runner.run(force=True)
        tabs = [
            t for t in self._sheet_tabs() if t.startswith(self.service.settings.rollup.tab_prefix)
        ]
        self.out.print(
            f"one batch update wrote {len(result.written)} tabs to the budget "
            f"spreadsheet: {', '.join(tabs)}"
        )
        rollups = runner.compute()
        for tab in rollups.tabs[:2]:
            print_tab(tab, self.service.settings.rollup.reporting_currency, self.out)
        return bool(tabs)

    def _sheet_tabs(self) -> list[str]:
        """The spreadsheet's tabs, as the Sheets sandbox holds them."""
        listing = httpx.get(f"{self.box.url('sheets')}/_sandbox/spreadsheets").json()
        for sheet in listing:
            if sheet["spreadsheetId"] == self.production.spreadsheet_id:
                return [str(title) for title in sheet["sheets"]]
        return []

    def summary(self) -> None:
        self.step("8. Where things stand")
        with self.service.store.transaction() as tx:
            counts = tx.records.count_by_kind()
            open_conflicts = len(tx.conflicts.find())
            errors = tx.source_errors.unresolved()
            flagged = [flag for flags in tx.records.flag_lists() for flag in flags.items()]
        table = Table("records", "count")
        for kind, count in counts:
            table.add_row(kind, str(count))
        self.out.print(table)
        self.out.print(f"open conflicts: {open_conflicts} (syncd conflicts list)")
        if errors:
            problems = Table("where", "problem", title="rows and records syncd could not read")
            for error in errors[:8]:
                where = error["location"] or f"{error['connector']} {error['external_id']}"
                problems.add_row(where, error["message"])
            self.out.print(problems)
        if flagged:
            values = Table(
                "tool:field",
                "value",
                "why",
                title="values no mapping translates "
                "(flagged on their records; the rest of each record synced)",
            )
            seen: set[str] = set()
            for where, flag in sorted(flagged, key=lambda f: f[0]):
                shown = f"{where}={flag.get('value')}"
                if shown not in seen and len(seen) < 8:
                    seen.add(shown)
                    values.add_row(where, str(flag.get("value")), str(flag.get("reason")))
            self.out.print(values)
        self.out.print(f"syncd API: {self.served.url}/docs   metrics: {self.served.url}/metrics")
        self.out.print(
            f"admin API: curl -H 'Authorization: Bearer {DEMO_ADMIN_TOKEN}' "
            f"{self.served.url}/admin/v1/conflicts"
        )

    def close(self) -> None:
        self.stack.close()


def run_demo(console: Console, *, keep_running: bool = False) -> int:
    """Run the tour; returns the exit status (0 when every step worked)."""
    demo = Demo(console)
    try:
        return demo.run(keep_running=keep_running)
    finally:
        demo.close()
