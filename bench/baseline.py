"""The naive baseline: the script a person writes in an afternoon with the same libraries.

It does the same job as syncd's first sync, the obvious way, one step after the other:

- Jira (the `jira` library): list the project's keys with `search_issues(jql,
  maxResults=False)` (the library's own paging), then `jira.issue(key)` for each issue;
- ShotGrid (httpx on REST v1): sign in, list Tasks, Assets and Shots page by page with the
  default page size, then `GET` each record;
- Google Sheets (gspread): `get_all_records()` on the Invoices and Budget tabs;
- then it links tasks and issues (either side's link field) and writes what differs, one
  call per changed field: Jira's "Pipeline Status" from the ShotGrid status, ShotGrid's
  Jira Status and Jira Key from Jira, the newer title onto the older side; and on every
  invoice row the two write-back cells (Sync Status, Synced At) with `update_cell`.

It runs in a process of its own against a freshly seeded sandbox of the same seed and size
as syncd's run (the same data, untouched by syncd). The sandbox's Sheets quota is lifted
for it: with Google's 60 writes a minute, its one-cell writes alone would take hours.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench.common import (
    Json,
    load_average,
    peak_rss_mb,
    run_child,
    send_line,
    syncd_figure,
    table,
    total_calls,
)
from bench.sandbox_process import SandboxProcess

DEFAULT_SIZES = (1_000, 10_000)
PIPELINE_TEXT = {
    "wtg": "Waiting to Start",
    "rdy": "Ready to Start",
    "ip": "In Progress",
    "rev": "Pending Review",
    "apr": "Approved",
    "fin": "Final",
    "hld": "On Hold",
    "omt": "Omit",
}


class NaiveSync:
    """The afternoon script, with counters of what it read and wrote."""

    def __init__(self, tables: dict[str, dict[str, Any]]) -> None:
        self.tables = tables
        self.records_read = 0
        self.field_writes = 0
        self.phase_seconds: dict[str, float] = {}

    def run(self) -> None:
        """Read everything, link, write what differs."""
        issues = self._timed("read jira", self.read_jira)
        tasks = self._timed("read shotgrid", self.read_shotgrid)
        self._timed("read sheets", self.read_sheets)
        self._timed("write jira + shotgrid", lambda: self.write_links(issues, tasks))
        self._timed("write sheets", self.write_sheets)

    def _timed(self, phase: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = work()
        self.phase_seconds[phase] = time.perf_counter() - started
        return result

    # -- Jira -----------------------------------------------------------------------------
    def read_jira(self) -> dict[str, Any]:
        """Every issue of the project, each read on its own."""
        from jira import JIRA

        t = self.tables["jira"]
        self.jira = JIRA(server=t["base_url"], basic_auth=(t["email"], t["api_token"]))
        names = {f["name"]: f["id"] for f in self.jira.fields()}
        self.pipeline_field = names["Pipeline Status"]
        self.sg_link_field = names["ShotGrid Task"]
        project = t["projects"][0]
        keys = [i.key for i in self.jira.search_issues(f"project = {project}", maxResults=False)]
        issues = {}
        for key in keys:
            issues[key] = self.jira.issue(key)
            self.records_read += 1
        return issues

    # -- ShotGrid -------------------------------------------------------------------------
    def read_shotgrid(self) -> dict[int, dict[str, Any]]:
        """Every Task, Asset and Shot: listed page by page, then each one read."""
        self.sg = httpx.Client(base_url=self.tables["shotgrid"]["base_url"], timeout=30)
        self._sg_sign_in()
        tasks: dict[int, dict[str, Any]] = {}
        for entity in ("Task", "Asset", "Shot"):
            page = 1
            while True:
                listed = self._sg("GET", f"/api/v1/entity/{entity}", params={"page[number]": page})
                rows = listed["data"]
                if not rows:
                    break
                for row in rows:
                    path = f"/api/v1/entity/{entity}/{row['id']}"
                    one = self._sg("GET", path, params={"fields": "*"})
                    self.records_read += 1
                    if entity == "Task":
                        tasks[int(row["id"])] = one["data"]
                page += 1
        return tasks

    def _sg_sign_in(self) -> None:
        t = self.tables["shotgrid"]
        token = self.sg.post(
            "/api/v1/auth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": t["script_name"],
                "client_secret": t["script_key"],
            },
        )
        token.raise_for_status()
        self.sg.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _sg(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call. The access token lasts 10 minutes: sign in again on a 401 (the fix the
        script's author makes after its first long run dies)."""
        response = self.sg.request(method, path, **kwargs)
        if response.status_code == 401:
            self._sg_sign_in()
            response = self.sg.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    # -- Sheets ---------------------------------------------------------------------------
    def read_sheets(self) -> None:
        """Both tabs as records."""
        import gspread

        from connectors.sheets.local_http import local_http_client

        t = self.tables["sheets"]
        gc = gspread.service_account(
            filename=t["service_account_file"], http_client=local_http_client(t["api_base_url"])
        )
        self.spreadsheet = gc.open_by_key(t["spreadsheet_id"])
        self.invoices = self.spreadsheet.worksheet("Invoices")
        self.invoice_rows = self.invoices.get_all_records()
        budget = self.spreadsheet.worksheet("Budget").get_all_records()
        self.records_read += len(self.invoice_rows) + len(budget)

    def write_sheets(self) -> None:
        """Stamp every invoice row, one cell at a time."""
        header = self.invoices.row_values(1)
        columns = {}
        for name in ("Sync Status", "Synced At"):
            if name not in header:
                header.append(name)
                self.invoices.update_cell(1, len(header), name)
            columns[name] = header.index(name) + 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        for number, row in enumerate(self.invoice_rows, start=2):
            if not str(row.get("Invoice #", "")).strip():
                continue
            self.invoices.update_cell(number, columns["Sync Status"], "OK")
            self.invoices.update_cell(number, columns["Synced At"], stamp)
            self.field_writes += 2

    # -- linking and writing ---------------------------------------------------------------
    def write_links(self, issues: dict[str, Any], tasks: dict[int, dict[str, Any]]) -> None:
        """For each task linked to an issue, write each field that differs, one call each."""
        by_task: dict[int, Any] = {}
        for issue in issues.values():
            linked = getattr(issue.fields, self.sg_link_field, None)
            if linked:
                by_task[int(float(linked))] = issue
        for task_id, task in tasks.items():
            attrs = task["attributes"]
            issue = by_task.get(task_id) or issues.get(attrs.get("sg_jira_key") or "")
            if issue is None:
                continue
            fields = issue.fields
            pipeline = PIPELINE_TEXT.get(attrs.get("sg_status_list") or "")
            if pipeline and getattr(fields, self.pipeline_field, None) != pipeline:
                issue.update(fields={self.pipeline_field: pipeline})
                self.field_writes += 1
            status = fields.status.name
            if attrs.get("sg_jira_status") != status:
                self._sg_put(task_id, {"sg_jira_status": status})
            if attrs.get("sg_jira_key") != issue.key:
                self._sg_put(task_id, {"sg_jira_key": issue.key})
            if attrs.get("content") != fields.summary:
                if str(attrs.get("updated_at", "")) > str(fields.updated):
                    issue.update(fields={"summary": attrs["content"]})
                    self.field_writes += 1
                else:
                    self._sg_put(task_id, {"content": fields.summary})

    def _sg_put(self, task_id: int, values: dict[str, Any]) -> None:
        self._sg("PUT", f"/api/v1/entity/Task/{task_id}", json=values)
        self.field_writes += 1


def measure(workdir: Path) -> Json:
    """Run the naive sync against `workdir/tables.json`; figures as JSON."""
    tables = json.loads((workdir / "tables.json").read_text())
    naive = NaiveSync(tables)
    started = time.perf_counter()
    naive.run()
    return {
        "seconds": time.perf_counter() - started,
        "records_read": naive.records_read,
        "field_writes": naive.field_writes,
        "phase_seconds": naive.phase_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_size(
    size: int,
    *,
    latency_ms: float,
    jitter_ms: float,
    invoices: int = 5_000,
    log: Callable[[str], None] = print,
) -> Json:
    """The baseline at one size, on a fresh sandbox of the same seed."""
    log(f"naive baseline, {size:,} issues: starting the sandbox")
    with SandboxProcess(
        issues=size, invoices=invoices, latency_ms=latency_ms, jitter_ms=jitter_ms
    ) as box:
        (box.workdir / "tables.json").write_text(json.dumps(box.tables))
        box.ask("quotas", enabled=False)
        box.ask("reset_calls")
        load = load_average()
        log(f"naive baseline, {size:,} issues: running (one call per record and per field)")
        result = run_child("bench.baseline", ["--child", str(box.workdir)])
        calls = box.calls()
    result.update(
        {
            "issues": size,
            "counts": box.counts,
            "latency_ms": latency_ms,
            "jitter_ms": jitter_ms,
            "load_at_start": list(load),
            "load_at_end": list(load_average()),
            "calls": calls,
            "calls_total": total_calls(calls),
            "measured": True,
        }
    )
    return result


def extrapolate(measured: list[Json], size: int) -> Json:
    """A linear estimate at `size` from the two largest measured sizes (labelled as such)."""
    a, b = sorted(measured, key=lambda r: r["issues"])[-2:]

    def line(key: str) -> float:
        slope = (b[key] - a[key]) / (b["issues"] - a["issues"])
        return float(b[key] + slope * (size - b["issues"]))

    return {
        "issues": size,
        "measured": False,
        "seconds": line("seconds"),
        "calls_total": round(line("calls_total")),
        "records_read": round(line("records_read")),
        "field_writes": round(line("field_writes")),
        "note": f"linear extrapolation from {a['issues']:,} and {b['issues']:,} issues",
    }


def compare(initial: list[Json], baseline: list[Json]) -> list[Json]:
    """syncd / baseline for time and API calls, per size present in both."""
    by_size = {r["issues"]: r for r in baseline}
    rows = []
    for r in initial:
        b = by_size.get(r["issues"])
        if b is None:
            continue
        # With the writes left after the write budget, at the measured calls per record
        # (older result files: the calls made).
        syncd_calls = r.get("calls_total_extrapolated", r["calls_total"])
        rows.append(
            {
                "issues": r["issues"],
                "baseline_measured": b["measured"],
                "syncd_seconds": r["total_seconds"],
                "baseline_seconds": b["seconds"],
                "time_ratio": r["total_seconds"] / b["seconds"],
                "syncd_calls": syncd_calls,
                "syncd_extrapolated": not r.get("write_complete", True),
                "baseline_calls": b["calls_total"],
                "calls_ratio": syncd_calls / b["calls_total"],
            }
        )
    return rows


def render(baseline: list[Json], comparison: list[Json], out: Console) -> None:
    """The baseline table and the syncd / baseline ratios."""
    out.print(
        table(
            "3. Naive baseline (same libraries, one call per record and per changed field)",
            ["scenario", "records read", "field writes", "API calls", "seconds", "peak RSS MiB"],
            [
                [
                    f"{b['issues']:,} issues" + ("" if b["measured"] else " (extrapolated)"),
                    b["records_read"],
                    b["field_writes"],
                    b["calls_total"],
                    b["seconds"],
                    b.get("peak_rss_mb"),
                ]
                for b in baseline
            ],
        )
    )
    out.print(
        table(
            "syncd / baseline (lower is better for syncd)",
            [
                "scenario",
                "syncd s",
                "baseline s",
                "time ratio",
                "syncd calls",
                "baseline calls",
                "calls ratio",
            ],
            [
                [
                    f"{c['issues']:,} issues"
                    + ("" if c["baseline_measured"] else " (baseline extrapolated)"),
                    syncd_figure(c, c["syncd_seconds"]),
                    c["baseline_seconds"],
                    f"{c['time_ratio']:.3f} (1/{1 / c['time_ratio']:.1f})",
                    syncd_figure(c, c["syncd_calls"]),
                    c["baseline_calls"],
                    f"{c['calls_ratio']:.3f} (1/{1 / c['calls_ratio']:.1f})",
                ]
                for c in comparison
            ],
        )
    )


def main() -> None:
    """Child entry point: `python -m bench.baseline --child WORKDIR`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", required=True, help="workdir holding tables.json")
    args = parser.parse_args()
    send_line(sys.stdout, measure(Path(args.child)))


if __name__ == "__main__":
    main()
