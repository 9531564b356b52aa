"""The baseline: the script a competent engineer writes in an afternoon with the same libraries.

It does the same job as syncd's first sync, the plain way, one step after the other, but
without waste a reviewer would send back:

- Jira (the `jira` library): `enhanced_search_issues` over the project with the fields it
  uses and `maxResults=False` (the library pages at Jira's largest page); no issue is read
  twice. Writes go through `Issue.update` (the library's way to edit an issue), one call
  per issue that needs a change, with every changed field in it.
- ShotGrid (httpx on REST v1): `_search` at the largest page (500) with the fields it
  uses; one `PUT` per task that needs a change, with every changed field in it.
- Google Sheets (gspread with its own retrying HTTP client): `get_all_values()` per tab;
  the write-back cells of every invoice row in one `values.batchUpdate`.
- Quotas stay on: the sandbox enforces Google's per-minute quotas and answers 429 with
  Retry-After where the tools do, and each client's own retry honours them (the `jira`
  library's ResilientSession, gspread's BackOffHTTPClient; for ShotGrid, which has no
  client library here, a retry on 429/503 honouring Retry-After).
- It writes what syncd's first sync writes: Jira's "Pipeline Status" from the ShotGrid
  status, ShotGrid's Jira Status and Jira Key from Jira, and the invoices' Sync Status and
  Synced At. It leaves titles alone: two tools naming one thing by their own conventions is
  not an edit (syncd's first-link rule).

It runs in a process of its own against a freshly seeded sandbox of the same seed and size
as syncd's run (the same data, untouched by syncd).

Known to flatter the script (issue #20 follow-up): the Jira and ShotGrid emulators enforce no
rate limits yet, so its writes go as fast as the sandbox answers, while syncd paces its Jira
edits to the ~10 a second Atlassian allows an API token. `Issue.update` costs a PUT and a GET
per issue: that is the library's edit call, which the afternoon script uses as documented.
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
SG_PAGE = 500  # REST v1's largest page[size]
SG_SEARCH_TYPE = "application/vnd+shotgun.api3_hash+json"  # _search takes the hash form
SG_TASK_FIELDS = ["sg_status_list", "sg_jira_status", "sg_jira_key"]
SG_RETRIES = 6


class AfternoonSync:
    """The afternoon script, with counters of what it read and wrote."""

    def __init__(self, tables: dict[str, dict[str, Any]]) -> None:
        self.tables = tables
        self.records_read = 0
        self.record_writes = 0
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
        """Every issue of the project with the fields the script uses, in large pages."""
        from jira import JIRA

        t = self.tables["jira"]
        self.jira = JIRA(server=t["base_url"], basic_auth=(t["email"], t["api_token"]))
        names = {f["name"]: f["id"] for f in self.jira.fields()}
        self.pipeline_field = names["Pipeline Status"]
        self.sg_link_field = names["ShotGrid Task"]
        project = t["projects"][0]
        found = self.jira.enhanced_search_issues(
            f"project = {project} ORDER BY key",
            maxResults=False,
            fields=["summary", "status", self.pipeline_field, self.sg_link_field],
        )
        issues = {issue.key: issue for issue in found}
        self.records_read += len(issues)
        return issues

    # -- ShotGrid -------------------------------------------------------------------------
    def read_shotgrid(self) -> dict[int, dict[str, Any]]:
        """Every Task of the project (and its Assets and Shots), 500 to a page."""
        t = self.tables["shotgrid"]
        self.sg = httpx.Client(base_url=t["base_url"], timeout=30)
        self._sg_sign_in()
        tasks: dict[int, dict[str, Any]] = {}
        for entity, fields in (
            ("Task", SG_TASK_FIELDS),
            ("Asset", ["code", "sg_status_list"]),
            ("Shot", ["code", "sg_status_list"]),
        ):
            page = 1
            while True:
                body = {
                    "filters": {
                        "logical_operator": "and",
                        "conditions": [["project.Project.id", "is", t["project_id"]]],
                    },
                    "fields": fields,
                    "sort": "id",
                    "page": {"size": SG_PAGE, "number": page},
                }
                rows = self._sg(
                    "POST",
                    f"/api/v1/entity/{entity}/_search",
                    content=json.dumps(body),
                    headers={"Content-Type": SG_SEARCH_TYPE},
                )["data"]
                self.records_read += len(rows)
                if entity == "Task":
                    tasks.update({int(row["id"]): row["attributes"] for row in rows})
                if len(rows) < SG_PAGE:
                    break
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
        """One call: sign in again on a 401 (the token lasts 10 minutes); wait and retry on
        429/503 as Retry-After says."""
        for _ in range(SG_RETRIES):
            response = self.sg.request(method, path, **kwargs)
            if response.status_code == 401:
                self._sg_sign_in()
                continue
            if response.status_code in (429, 503):
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            return response.json()
        response.raise_for_status()
        return response.json()

    # -- Sheets ---------------------------------------------------------------------------
    def read_sheets(self) -> None:
        """Both tabs, as the grid of values."""
        import gspread

        from connectors.sheets.local_http import local_http_client

        t = self.tables["sheets"]
        gc = gspread.service_account(
            filename=t["service_account_file"],
            http_client=local_http_client(t["api_base_url"], backoff=True),
        )
        self.spreadsheet = gc.open_by_key(t["spreadsheet_id"])
        self.invoices = self.spreadsheet.worksheet("Invoices")
        self.invoice_grid = self.invoices.get_all_values()
        budget = self.spreadsheet.worksheet("Budget").get_all_values()
        self.records_read += max(0, len(self.invoice_grid) - 1) + max(0, len(budget) - 1)

    def write_sheets(self) -> None:
        """Stamp every invoice row: the two write-back columns, in one batch update."""
        from gspread.utils import ValueInputOption, rowcol_to_a1

        header = list(self.invoice_grid[0]) if self.invoice_grid else []
        for name in ("Sync Status", "Synced At"):
            if name not in header:
                header.append(name)
        status_col = header.index("Sync Status") + 1
        stamp_col = header.index("Synced At") + 1
        key_col = header.index("Invoice #") if "Invoice #" in header else 0
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        data = [{"range": rowcol_to_a1(1, status_col), "values": [["Sync Status"]]}]
        data.append({"range": rowcol_to_a1(1, stamp_col), "values": [["Synced At"]]})
        for number, row in enumerate(self.invoice_grid[1:], start=2):
            if key_col >= len(row) or not row[key_col].strip():
                continue
            data.append({"range": rowcol_to_a1(number, status_col), "values": [["OK"]]})
            data.append({"range": rowcol_to_a1(number, stamp_col), "values": [[stamp]]})
            self.record_writes += 1
        self.invoices.batch_update(data, value_input_option=ValueInputOption.user_entered)

    # -- linking and writing ---------------------------------------------------------------
    def write_links(self, issues: dict[str, Any], tasks: dict[int, dict[str, Any]]) -> None:
        """For each task linked to an issue, one write to each side that needs a change."""
        by_task: dict[int, Any] = {}
        for issue in issues.values():
            linked = getattr(issue.fields, self.sg_link_field, None)
            if linked:
                by_task[int(float(linked))] = issue
        for task_id, attrs in tasks.items():
            issue = by_task.get(task_id) or issues.get(attrs.get("sg_jira_key") or "")
            if issue is None:
                continue
            pipeline = PIPELINE_TEXT.get(attrs.get("sg_status_list") or "")
            if pipeline and getattr(issue.fields, self.pipeline_field, None) != pipeline:
                issue.update(fields={self.pipeline_field: pipeline}, notify=False)
                self.record_writes += 1
            changes = {}
            if attrs.get("sg_jira_status") != issue.fields.status.name:
                changes["sg_jira_status"] = issue.fields.status.name
            if attrs.get("sg_jira_key") != issue.key:
                changes["sg_jira_key"] = issue.key
            if changes:
                self._sg("PUT", f"/api/v1/entity/Task/{task_id}", json=changes)
                self.record_writes += 1


def measure(workdir: Path) -> Json:
    """Run the baseline script against `workdir/tables.json`; figures as JSON."""
    tables = json.loads((workdir / "tables.json").read_text())
    script = AfternoonSync(tables)
    started = time.perf_counter()
    script.run()
    return {
        "seconds": time.perf_counter() - started,
        "records_read": script.records_read,
        "record_writes": script.record_writes,
        "phase_seconds": script.phase_seconds,
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
    log(f"baseline, {size:,} issues: starting the sandbox")
    with SandboxProcess(
        issues=size, invoices=invoices, latency_ms=latency_ms, jitter_ms=jitter_ms
    ) as box:
        (box.workdir / "tables.json").write_text(json.dumps(box.tables))
        box.ask("reset_calls")  # quotas stay on: the script must live within them
        load = load_average()
        log(f"baseline, {size:,} issues: running (large pages, one write per changed record)")
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
        "record_writes": round(line("record_writes")),
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
            "3. Baseline: an afternoon script (same libraries, large pages, one write per "
            "changed record, sheet writes batched, quotas on)",
            ["scenario", "records read", "record writes", "API calls", "seconds", "peak RSS MiB"],
            [
                [
                    f"{b['issues']:,} issues" + ("" if b["measured"] else " (extrapolated)"),
                    b["records_read"],
                    b.get("record_writes", b.get("field_writes")),
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
