"""Incremental latency: the service running, people editing at a steady rate.

Set-up (not measured): a sandbox process with a production of `issues` Jira issues, a
first sync by a set-up syncd with the sandbox's latency and every quota lifted (so the
thousands of first write-backs take seconds, not the ten minutes Jira's quota would need),
an incremental pull that reads the write-backs back (as the scheduler's next poll would),
and a first publish of the consolidated sheet. Then the latency goes to the stated value,
the quotas come back, and the measured syncd starts on the same store with default
settings: one worker, webhooks from the three tools, the consolidated sheet kept current.

Each rate then gets `duration` seconds of edits (`bench.edits`) and up to `settle` seconds
to catch up. Latencies, all from the person's edit:

- **webhook-to-stored**: the change is in syncd's store (its audit row's `recorded_at`);
- **webhook-to-push**: the other tool shows the new title (the moment that tool announced
  syncd's write: timestamped in the sandbox process, inside the API call that applied it,
  so the clock costs the measured path nothing);
- **webhook-to-sheet**: for invoice edits, the first write of the consolidated sheet
  (`spreadsheets.batchUpdate`) that lands after the change is stored. The sheet is
  rewritten at most once per `rollup.flush_interval_seconds`, which bounds this one.

Both processes read the same wall clock, so their timestamps compare directly.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.common import (
    Json,
    ThreadsProfile,
    load_average,
    peak_rss_mb,
    summary_ms,
    table,
    total_calls,
)
from bench.edits import PATTERN
from bench.sandbox_process import SandboxProcess
from syncd.service import Service
from syncd.settings import Settings, default_mappings_dir
from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID
from syncd_sandbox.serving import ServedApp

DEFAULT_RATES = (10, 100)
WARM_UP_RATE = 5
SHEETS_WRITES = (
    "POST /v4/spreadsheets/{spreadsheet_id}/values:batchUpdate",
    "POST /v4/spreadsheets/{spreadsheet_id}:batchUpdate",
    "PUT /v4/spreadsheets/{spreadsheet_id}/values/{range_:path}",
    "POST /v4/spreadsheets/{spreadsheet_id}/values/{range_:path}:append",
    "POST /v4/spreadsheets/{spreadsheet_id}/values:batchClear",
)
SHEETS_WRITE_QUOTA = 60  # per minute per service account
NO_QUOTA = 1_000_000.0


def _settings(
    workdir: Path,
    tables: dict[str, dict[str, Any]],
    *,
    fast: bool,
    jira_per_minute: float | None = None,
) -> Settings:
    tables = json.loads(json.dumps(tables))
    if jira_per_minute is not None:  # a site granted another Jira quota (a what-if run)
        tables["jira"]["rate_limit_per_minute"] = jira_per_minute
    if fast:  # the set-up syncd only: lift the client-side quotas
        tables["jira"]["rate_limit_per_minute"] = NO_QUOTA
        tables["shotgrid"]["rate_limit_per_minute"] = NO_QUOTA
        tables["sheets"]["read_quota_per_minute"] = NO_QUOTA
        tables["sheets"]["write_quota_per_minute"] = NO_QUOTA
    return Settings(
        store_url=f"sqlite:///{workdir / 'syncd.sqlite3'}",
        mappings_dir=default_mappings_dir(),
        connectors=tables,
        log_json=False,
        log_level="WARNING",
        sync={"poll_interval_seconds": 3600, "full_resync_hours": None},
    )


def set_up(box: SandboxProcess, log: Callable[[str], None]) -> Json:
    """First sync and first sheet publish, fast; returns what it did."""
    started = time.perf_counter()
    box.ask("quotas", enabled=False)
    service = Service(_settings(box.workdir, box.tables, fast=True), workers=0, schedule=False)
    try:
        report = service.engine.sync(full=True, push=False)
        pushed = 0
        while True:
            done = sum(service.engine.push_pending(n).pushed for n in service.engine.connectors)
            pushed += done
            if not done:
                break
        # The scheduler's next poll reads the write-backs back (they bumped each record's
        # clock), as a running service would have by the time people edit.
        polled = service.engine.sync(push=False).pulled
        published = None
        if service.rollups is not None:
            published = service.rollups.run(force=True).written
    finally:
        service.close()
    box.ask("quotas", enabled=True)
    log(
        f"incremental: set-up synced {report.pulled:,} records, wrote {pushed:,},"
        f" read back {polled:,}"
    )
    return {
        "records": report.pulled,
        "pushed": pushed,
        "read_back": polled,
        "sheet_tabs_published": published,
        "seconds": time.perf_counter() - started,
    }


class Measured:
    """The measured syncd: the service with one worker, served on loopback."""

    def __init__(self, box: SandboxProcess, *, jira_per_minute: float | None = None) -> None:
        settings = _settings(box.workdir, box.tables, fast=False, jira_per_minute=jira_per_minute)
        self.service = Service(settings, workers=1, schedule=False)
        self.served = ServedApp.start(self.service.app())
        self.service.start()  # served without lifespan: start the background work here

    def busy(self) -> bool:
        """Jobs waiting (other than the delayed sheet flush) or writes pending."""
        depth = self.service.queue.depth()
        with self.service.store.transaction() as tx:
            outbox = tx.outbox.depth()
        return any(n for kind, n in depth.items() if kind != "rollup") or any(outbox.values())

    def stored(self, since: datetime) -> list[Json]:
        """Title and status changes stored since `since`, with the invoice they belong to."""
        with self.service.store.transaction() as tx:
            entries = tx.audit.entries_by_source_since(since)
        return [
            {
                "field": entry["field"],
                "value": entry["new"],
                "t": entry["recorded_at"].timestamp(),
                "connector": connector,
                "external_id": external_id,
            }
            for entry, connector, external_id in entries
            if entry["field"] in ("title", "status")
        ]

    def close(self) -> None:
        """Stop the worker and the server."""
        self.service.stop()
        self.served.stop()
        self.service.close()


def _first_after(times: Iterable[float], after: float) -> float | None:
    later = [x for x in times if x >= after]
    return min(later) if later else None


def match(edits: list[Json], writes: list[Json], stored: list[Json]) -> Json:
    """Latencies per edit: stored, pushed to the linked tool, on the consolidated sheet.

    Each latency runs until syncd (or the other tool) is up to date with the edit: it holds
    that edit's value or the value of a later edit of the same record. A record edited
    again before syncd read it is read once, with the later value; such edits are counted
    as `overtaken` (their latency is the later value's arrival).
    """
    pushes: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    sheet_writes: list[float] = []
    for w in writes:
        if w["tool"] == "sheets":
            if w["field"] == "spreadsheets.batchUpdate":
                sheet_writes.append(w["t"])
            continue
        syncd = w["by"] == DEFAULT_ACCOUNT_ID or str(w["by"]).startswith("ApiUser:")
        if syncd:
            pushes[(w["tool"], str(w["key"]), str(w["field"]), str(w["value"]))].append(w["t"])
    titles: dict[str, list[float]] = defaultdict(list)
    statuses: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in stored:
        if s["field"] == "title":
            titles[str(s["value"])].append(s["t"])
        elif s["connector"] == "sheets":
            statuses[(str(s["external_id"]), str(s["value"]))].append(s["t"])

    own_stored: dict[int, float | None] = {}
    own_pushed: dict[int, float | None] = {}
    for e in edits:
        at = e["at"]
        if e["tool"] == "sheets":
            own_stored[e["seq"]] = _first_after(statuses[(e["record"], e["value"].lower())], at)
        else:
            own_stored[e["seq"]] = _first_after(titles[str(e.get("title", e["value"]))], at)
        target = e["target"]
        if target is not None:
            key = (
                target["tool"],
                str(target["key"]),
                target["field"],
                target.get("value", e["value"]),
            )
            own_pushed[e["seq"]] = _first_after(pushes.get(key, []), at)

    by_record: dict[tuple[str, str], list[Json]] = defaultdict(list)
    for e in sorted(edits, key=lambda e: e["at"]):
        by_record[(e["tool"], str(e["record"]))].append(e)
    out: dict[str, list[float]] = defaultdict(list)
    missing: dict[str, int] = defaultdict(int)
    overtaken: dict[str, int] = defaultdict(int)
    for group in by_record.values():
        stored_at: float | None = None  # the earliest arrival of this or a later edit
        pushed_at: float | None = None
        for e in reversed(group):
            at, tool, target = e["at"], e["tool"], e["target"]
            stored_at = _earliest(own_stored[e["seq"]], stored_at)
            name = f"stored from {tool}"
            if stored_at is None:
                missing[name] += 1
                continue
            if own_stored[e["seq"]] is None:
                overtaken[name] += 1
            out[name].append(stored_at - at)
            out["stored (all)"].append(stored_at - at)
            if target is not None:
                pushed_at = _earliest(own_pushed[e["seq"]], pushed_at)
                name = f"push {tool} -> {target['tool']}"
                if pushed_at is None:
                    missing[name] += 1
                    continue
                if own_pushed[e["seq"]] is None:
                    overtaken[name] += 1
                out[name].append(pushed_at - at)
                out["push (all)"].append(pushed_at - at)
            else:
                sheet_at = _first_after(sheet_writes, stored_at)
                if sheet_at is None:
                    missing["consolidated sheet"] += 1
                else:
                    out["consolidated sheet"].append(sheet_at - at)
    return {
        "latency": {name: summary_ms(values) for name, values in sorted(out.items())},
        "missing": dict(missing),
        "overtaken": dict(overtaken),
        "sheet_flushes": len(sheet_writes),
    }


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def run_rate(
    box: SandboxProcess,
    syncd: Measured,
    rate: float,
    *,
    duration: float,
    settle: float,
    offset: int,
    log: Callable[[str], None],
    pattern: list[str] | None = None,
) -> Json:
    """One steady stream of edits, then catching up; the figures."""
    box.ask("reset_calls")
    box.ask("record", on=True)
    since = datetime.now(UTC)
    load = load_average()
    log(f"incremental: {rate:g} edits/s for {duration:g} s")
    driven = box.ask("edits", rate=rate, seconds=duration, offset=offset, pattern=pattern)
    edit_end = time.perf_counter()
    box.ask("flush", timeout=settle)
    while syncd.busy() and time.perf_counter() - edit_end < settle:
        time.sleep(0.5)
    caught_up = time.perf_counter() - edit_end
    # The sheet flush is delayed by its interval, and its recompute takes seconds of CPU
    # (4-5 s at 5,000 issues while edits stream in): give the last one time to land.
    interval = syncd.service.settings.rollup.flush_interval_seconds
    time.sleep(min(settle, interval + 10))
    writes = box.ask("writes")["writes"]
    box.ask("record", on=False)
    calls = box.calls()
    minutes = (time.perf_counter() - edit_end + driven["seconds"]) / 60
    sheets = calls.get("sheets", {})
    sheet_writes = sum(n for e, n in sheets.items() if e in SHEETS_WRITES)
    sheet_reads = sum(n for e, n in sheets.items() if e not in SHEETS_WRITES and "token" not in e)
    result = {
        "rate": rate,
        "duration_s": duration,
        "edits": len(driven["edits"]),
        "achieved_rate": driven["achieved_rate"],
        "driver_max_lag_s": driven["max_lag_seconds"],
        "edit_errors": driven["errors"],
        "caught_up_s": caught_up,
        "load_at_start": list(load),
        "load_at_end": list(load_average()),
        "calls": calls,
        "calls_total": total_calls(calls),
        "sheets_writes_per_minute": sheet_writes / minutes,
        "sheets_reads_per_minute": sheet_reads / minutes,
        "window_minutes": minutes,
        **match(driven["edits"], writes, syncd.stored(since)),
    }
    return result


def run(
    *,
    issues: int,
    rates: list[float],
    duration: float,
    settle: float,
    latency_ms: float,
    jitter_ms: float,
    invoices: int = 5_000,
    pattern: list[str] | None = None,
    jira_per_minute: float | None = None,
    profile: Path | None = None,
    log: Callable[[str], None] = print,
) -> Json:
    """Set up once, then every rate in turn on the same running service.

    `jira_per_minute`: the Jira connector's quota per endpoint (default: the connector's
    own, Atlassian's guidance for API tokens), for a what-if run of a site granted more.
    """
    log(f"incremental: starting the sandbox ({issues:,} issues)")
    profiler = ThreadsProfile() if profile else None
    with SandboxProcess(issues=issues, invoices=invoices, latency_ms=0, jitter_ms=0) as box:
        setup = set_up(box, log)
        box.ask("knobs", latency_ms=latency_ms, jitter_ms=jitter_ms)
        if profiler:
            profiler.__enter__()  # before the service starts its threads
        syncd = Measured(box, jira_per_minute=jira_per_minute)
        try:
            box.ask("webhooks", url=syncd.served.url)
            # Warm-up, not measured: sign-ins, field lists, the first sheet flush.
            run_rate(box, syncd, WARM_UP_RATE, duration=2, settle=settle, offset=0, log=log)
            results, offset = [], int(WARM_UP_RATE * 2)
            for rate in rates:
                results.append(
                    run_rate(
                        box,
                        syncd,
                        rate,
                        duration=duration,
                        settle=settle,
                        offset=offset,
                        log=log,
                        pattern=pattern,
                    )
                )
                offset += int(rate * duration)
            flush = syncd.service.settings.rollup.flush_interval_seconds
        finally:
            syncd.close()
            if profiler:
                profiler.__exit__()
        sandbox_rss = box.ask("rss")
    profile_top = profiler.top(profile) if profiler and profile else None
    return {
        "issues": issues,
        "counts": box.counts,
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "setup": setup,
        "rollup_flush_interval_s": flush,
        "pattern": pattern or list(PATTERN),
        "jira_per_minute": jira_per_minute,
        "syncd_peak_rss_mb": peak_rss_mb(),
        "sandbox_rss_mb": sandbox_rss,
        "rates": results,
        "profile": profile_top,
    }


def render(result: Json, out: Console) -> None:
    """The latency table."""
    rows = []
    for r in result["rates"]:
        for name, s in r["latency"].items():
            rows.append(
                [
                    f"{r['rate']:g}/s: {name}",
                    s["n"],
                    s["p50_ms"],
                    s["p95_ms"],
                    s["p99_ms"],
                    s["max_ms"],
                ]
            )
    title = (
        f"4. Incremental latency, from the person's edit ({result['issues']:,}-issue production,"
        f" sandbox {result['latency_ms']:g} ms + up to {result['jitter_ms']:g} ms per call)"
    )
    out.print(table(title, ["scenario", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))
    out.print(
        table(
            "Incremental: throughput and quotas",
            [
                "scenario",
                "edits",
                "achieved /s",
                "caught up s",
                "API calls",
                "Sheets writes/min",
                "Sheets reads/min",
                "overtaken",
                "not seen",
            ],
            [
                [
                    f"{r['rate']:g} edits/s",
                    r["edits"],
                    r["achieved_rate"],
                    r["caught_up_s"],
                    r["calls_total"],
                    r["sheets_writes_per_minute"],
                    r["sheets_reads_per_minute"],
                    ", ".join(f"{k}: {v}" for k, v in r["overtaken"].items()) or "0",
                    ", ".join(f"{k}: {v}" for k, v in r["missing"].items()) or "0",
                ]
                for r in result["rates"]
            ],
        )
    )
