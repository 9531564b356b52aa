"""Initial sync: a fresh syncd reads everything, links and reconciles it, then writes back.

Each size runs with a sandbox process of its own and a fresh measuring process (so its peak
RSS is the sync's own, apart from the sandbox's). The measuring process builds syncd's
`Service` from the connector tables the sandbox printed and times two phases:

- **read**: `engine.sync(full=True, push=False)`: every page of every tool pulled, mapped,
  linked, reconciled and stored; memory is sampled at every page;
- **write**: `engine.push_pending` per connector, round after round, until the outbox is
  empty (what `engine.sync()` does once, with 500 writes per connector per round) or the
  time budget is spent; what is left is then extrapolated at the measured write rate and
  labelled so.

API calls are counted by the sandbox per endpoint (reset before the measuring process
starts, so start-up calls such as sign-in are counted).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.common import (
    Json,
    ThreadsProfile,
    fmt,
    load_average,
    peak_rss_mb,
    rss_mb,
    run_child,
    send_line,
    table,
    total_calls,
)
from bench.floor import floor
from bench.sandbox_process import SandboxProcess
from syncd.runtime import tune_runtime

DEFAULT_SIZES = (1_000, 10_000, 100_000)
INVOICES = 5_000


# -- the measuring process --------------------------------------------------------------------


def measure(workdir: Path, *, drain_seconds: float, profile: Path | None) -> Json:
    """Run a first sync against the tables in `workdir/tables.json`; figures as JSON."""
    from syncd.service import Service
    from syncd.settings import Settings, default_mappings_dir

    tables = json.loads((workdir / "tables.json").read_text())
    settings = Settings(
        store_url=f"sqlite:///{workdir / 'syncd.sqlite3'}",
        mappings_dir=default_mappings_dir(),
        connectors=tables,
        log_json=False,
        log_level="WARNING",
        sync={"poll_interval_seconds": 3600, "full_resync_hours": None},
    )
    rss_at_start = rss_mb()
    service = Service(settings, workers=0, schedule=False)
    engine = service.engine
    rss_ready = rss_mb()
    pulled: dict[tuple[str, str], int] = {}
    samples: list[tuple[float, int, float]] = []  # seconds, records so far, RSS MiB
    started = time.perf_counter()

    def progress(connector: str, entity: str, so_far: int) -> None:
        pulled[(connector, entity)] = so_far
        samples.append((time.perf_counter() - started, sum(pulled.values()), rss_mb()))

    read_profile = ThreadsProfile() if profile else None
    cpu = _cpu_seconds()
    with read_profile or nullcontext():
        report = engine.sync(full=True, push=False, progress=progress)
    read_seconds = time.perf_counter() - started
    read_cpu = _cpu_seconds() - cpu
    peak_after_read = peak_rss_mb()

    pushed: dict[str, int] = dict.fromkeys(engine.connectors, 0)
    push_seconds: dict[str, float] = dict.fromkeys(engine.connectors, 0.0)
    calls_before_writes = _sandbox_calls(tables)
    write_started, cpu = time.perf_counter(), _cpu_seconds()
    budget_spent = False
    write_profile = ThreadsProfile() if profile else None
    with write_profile or nullcontext():
        while True:
            progress_made = False
            for name in engine.connectors:
                t0 = time.perf_counter()
                done = engine.push_pending(name)
                push_seconds[name] += time.perf_counter() - t0
                pushed[name] += done.pushed
                report.add(done)
                progress_made |= bool(done.pushed or done.push_rejected)
            if not progress_made:
                break
            if time.perf_counter() - write_started > drain_seconds:
                budget_spent = True
                break
    write_seconds = time.perf_counter() - write_started
    write_cpu = _cpu_seconds() - cpu
    calls_after_writes = _sandbox_calls(tables)
    with service.store.transaction() as tx:
        left = tx.outbox.depth()
    rates = {name: pushed[name] / push_seconds[name] for name in pushed if push_seconds[name] > 0}
    left_seconds = sum(n / rates[name] for name, n in left.items() if n and rates.get(name))
    profiles = None
    if profile and read_profile and write_profile:
        profiles = {
            "read": read_profile.top(profile.with_suffix(".read.prof")),
            "write": write_profile.top(profile.with_suffix(".write.prof")),
        }
    service.close()
    return {
        "records": report.pulled,
        "created": report.created,
        "changed_fields": report.changed_fields,
        "conflicts_opened": report.conflicts_opened,
        "pushed": pushed,
        "push_rejected": report.push_rejected,
        "errors": report.errors[:20],
        "read_seconds": read_seconds,
        "write_seconds": write_seconds,
        "write_complete": not budget_spent and not any(left.values()),
        "outbox_left": left,
        "write_rate_per_second": rates,
        # Calls made while writing, per tool (read-before-write reads included).
        "write_calls": {
            tool: calls_after_writes[tool] - n for tool, n in calls_before_writes.items()
        },
        "left_seconds_extrapolated": left_seconds,
        "rss_mb": {
            "at_start": rss_at_start,
            "service_ready": rss_ready,
            "peak_after_read": peak_after_read,
            "peak": peak_rss_mb(),
            "samples": _thin(samples, 40),
        },
        "cpu_seconds": {"read": read_cpu, "write": write_cpu},
        "profile": profiles,
    }


def _thin(samples: list[tuple[float, int, float]], keep: int) -> list[list[float]]:
    """At most `keep` evenly spread samples, the last one always included."""
    if len(samples) <= keep:
        return [list(s) for s in samples]
    step = len(samples) / keep
    chosen = [samples[int(i * step)] for i in range(keep - 1)] + [samples[-1]]
    return [list(s) for s in chosen]


def _sandbox_calls(tables: Json) -> dict[str, int]:
    """API calls each emulator has counted so far (its control endpoint is not counted)."""
    bases = {"jira": "base_url", "shotgrid": "base_url", "sheets": "api_base_url"}
    counts = {}
    for tool, key in bases.items():
        answer = httpx.get(f"{tables[tool][key]}/_sandbox/calls", timeout=10)
        answer.raise_for_status()
        counts[tool] = sum(answer.json().values())
    return counts


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the orchestrating side -------------------------------------------------------------------


def run_size(
    size: int,
    *,
    latency_ms: float,
    jitter_ms: float,
    drain_seconds: float,
    profile_dir: Path | None = None,
    invoices: int = INVOICES,
    log: Callable[[str], None] = print,
) -> Json:
    """One initial sync of `size` Jira issues (and the matching ShotGrid and sheet data)."""
    log(f"initial sync, {size:,} issues: starting the sandbox")
    with SandboxProcess(
        issues=size, invoices=invoices, latency_ms=latency_ms, jitter_ms=jitter_ms
    ) as box:
        (box.workdir / "tables.json").write_text(json.dumps(box.tables))
        box.ask("reset_calls")
        load = load_average()
        args = ["--child", str(box.workdir), "--drain-seconds", str(drain_seconds)]
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
            args += ["--profile", str(profile_dir / f"initial-{size}.prof")]
        log(f"initial sync, {size:,} issues: syncing ({box.counts})")
        result = run_child("bench.initial", args)
        calls = box.calls()
        sandbox_rss = box.ask("rss")
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
            "sandbox_rss_mb": sandbox_rss,
        }
    )
    finish_figures(result)
    return result


def finish_figures(result: Json) -> None:
    """Floor, ratios and memory growth from the measured figures (pure; reusable on a file).

    The records that must be written are those written plus those still waiting when the
    write budget ran out.
    """
    must_write = {
        name: n + result["outbox_left"].get(name, 0) for name, n in result["pushed"].items()
    }
    result["floor"] = floor(
        result["counts"],
        pushed=must_write,
        latency_ms=result["latency_ms"],
        jitter_ms=result["jitter_ms"],
    )
    f = result["floor"]
    result["records_per_second"] = result["records"] / result["read_seconds"]
    result["ratio_read"] = result["read_seconds"] / f["read_seconds"]
    total = result["read_seconds"] + result["write_seconds"]
    calls = result["calls_total"]
    if not result["write_complete"]:
        total += result["left_seconds_extrapolated"]
        # The writes left cost what the written ones did, per record and tool.
        for tool, left in result["outbox_left"].items():
            done, made = result["pushed"].get(tool, 0), result.get("write_calls", {}).get(tool)
            if left and done and made is not None:
                calls += left * made / done
    result["total_seconds"] = total
    result["calls_total_extrapolated"] = round(calls)
    result["ratio_total"] = total / f["total_seconds"]
    result["memory_growth_mb_per_10k"] = _growth(result["rss_mb"]["samples"])


def floor_rows(runs: list[Json]) -> list[Json]:
    """The floor section of the results: per size, the floor and syncd's ratios to it."""
    return [
        {
            "issues": r["issues"],
            **r["floor"],
            "syncd_read_s": r["read_seconds"],
            "syncd_total_s": r["total_seconds"],
            "ratio_read": r["ratio_read"],
            "ratio_total": r["ratio_total"],
        }
        for r in runs
    ]


def _growth(samples: list[list[float]]) -> float | None:
    """RSS growth per 10k records over the second half of the read (after warm-up)."""
    if len(samples) < 4:
        return None
    half = samples[len(samples) // 2]
    last = samples[-1]
    records = last[1] - half[1]
    return (last[2] - half[2]) / records * 10_000 if records > 0 else None


def run(
    sizes: list[int],
    *,
    latency_ms: float,
    jitter_ms: float,
    drain_seconds: float,
    invoices: int = INVOICES,
    profile_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> list[Json]:
    """Every size, smallest first."""
    return [
        run_size(
            size,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            drain_seconds=drain_seconds,
            invoices=invoices,
            profile_dir=profile_dir,
            log=log,
        )
        for size in sorted(sizes)
    ]


def render(results: list[Json], out: Console) -> None:
    """The initial sync tables."""
    rows = []
    for r in results:
        c = r["counts"]
        rows.append(
            [
                f"{r['issues']:,} issues / {c['sg_tasks']:,} tasks / {c['invoice_rows']:,} rows",
                r["records"],
                r["read_seconds"],
                r["records_per_second"],
                sum(r["pushed"].values()),
                r["write_seconds"],
                ("" if r["write_complete"] else "≈") + fmt(r["total_seconds"]),
                r["calls_total"],
                r["rss_mb"]["peak"],
                r["sandbox_rss_mb"]["peak_rss_mb"],
                fmt(r["memory_growth_mb_per_10k"], 2),
            ]
        )
    out.print(
        table(
            "1. Initial sync (syncd process; sandbox in its own process)",
            [
                "scenario",
                "records read",
                "read s",
                "records/s",
                "writes",
                "write s",
                "total s",
                "API calls",
                "syncd peak RSS MiB",
                "sandbox RSS MiB",
                "RSS MiB/10k rec",
            ],
            rows,
        )
    )
    detail = Table("size", "tool", "calls by endpoint", title="API calls by endpoint")
    for r in results:
        for tool, endpoints in r["calls"].items():
            parts = sorted(endpoints.items(), key=lambda kv: -kv[1])
            detail.add_row(f"{r['issues']:,}", tool, ", ".join(f"{e} x{n:,}" for e, n in parts))
    out.print(detail)
    for r in results:
        if not r["write_complete"]:
            left = sum(r["outbox_left"].values())
            out.print(
                f"  {r['issues']:,}: {left:,} writes left after the {r['write_seconds']:.0f} s"
                f" budget; ≈ marks totals extrapolated at the measured write rate"
                f" (+{r['left_seconds_extrapolated']:.0f} s)"
            )


def render_floor(results: list[Json], out: Console) -> None:
    """The floor per tool, and syncd's time as a ratio to it."""
    rows = []
    for r in results:
        f = r["floor"]
        tools = f["tools"]
        approx = "" if r["write_complete"] else "≈"
        rows.append(
            [
                f"{r['issues']:,} issues",
                " / ".join(
                    f"{tools[t]['read_seconds']:.1f}" for t in ("jira", "shotgrid", "sheets")
                ),
                f["read_seconds"],
                r["read_seconds"],
                f"{r['ratio_read']:.1f}x",
                " / ".join(f"{tools[t]['seconds']:.1f}" for t in ("jira", "shotgrid", "sheets")),
                f["total_seconds"],
                approx + fmt(r["total_seconds"]),
                f"{approx}{r['ratio_total']:.2f}x",
            ]
        )
    per_call = results[0]["floor"]["per_call_seconds"] * 1000 if results else 0.0
    out.print(
        table(
            f"2. The floor (unavoidable calls at {per_call:.0f} ms each, per tool in sequence,"
            " tools in parallel, within each connector's quota)",
            [
                "scenario",
                "read floor s jira/sg/sheets",
                "read floor s",
                "syncd read s",
                "read ratio",
                "floor with writes s jira/sg/sheets",
                "floor with writes s",
                "syncd total s",
                "total ratio",
            ],
            rows,
        )
    )


def main() -> None:
    """Measuring-process entry point (`python -m bench.initial --child WORKDIR`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", required=True, help="workdir holding tables.json")
    parser.add_argument("--drain-seconds", type=float, default=600.0)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args()
    tune_runtime()  # as the `syncd` command does
    result = measure(
        Path(args.child),
        drain_seconds=args.drain_seconds,
        profile=Path(args.profile) if args.profile else None,
    )
    send_line(sys.stdout, result)


if __name__ == "__main__":
    main()
