"""`python -m bench [all|initial|baseline|incremental|ingest] [options]`: syncd's benchmarks.

Prints one table per scenario, each figure with the size of the work, then the goals of
issue #7, and writes the same as JSON (`--out`, default `bench/results/<UTC time>.json`).
See docs/performance.md for what each scenario measures and the latest figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench import baseline, goals, incremental, ingest_report, initial
from bench.common import Json, code_version, console, load_average, machine, write_json
from syncd.runtime import tune_runtime

SCENARIOS = ("all", "initial", "baseline", "incremental", "ingest")
QUICK = {
    "sizes": "60",
    "baseline_sizes": "60",
    "invoices": 60,
    "latency_ms": 5.0,
    "jitter_ms": 1.0,
    "drain_seconds": 30.0,
    "incremental_issues": 60,
    "rates": "10",
    "duration": 2.0,
    "settle": 3.0,
    "ingest_levels": "1,4",
    "ingest_n": 100,
}


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


BACKENDS = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres"}


def _backends(text: str) -> list[str]:
    """Ingest stores by name ("postgresql" is another name for "postgres")."""
    chosen = []
    for name in (x.strip().lower() for x in text.split(",") if x.strip()):
        if name not in BACKENDS:
            raise argparse.ArgumentTypeError(
                f"unknown store {name!r} (choose from sqlite, postgres)"
            )
        chosen.append(BACKENDS[name])
    return list(dict.fromkeys(chosen))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `--quick` fills in small values for what was not given."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="all", choices=SCENARIOS)
    p.add_argument("--sizes", help="initial sync sizes, Jira issues (default 1000,10000,100000)")
    p.add_argument("--baseline-sizes", help="baseline sizes (default 1000,10000)")
    p.add_argument("--invoices", type=int, help="invoice rows in the sheet (default 5000)")
    p.add_argument("--latency-ms", type=float, help="sandbox latency per API call (default 50)")
    p.add_argument("--jitter-ms", type=float, help="extra uniform 0..jitter per call (default 10)")
    p.add_argument(
        "--drain-seconds",
        type=float,
        help="initial sync: time budget for writing back; the rest is extrapolated (default 660)",
    )
    p.add_argument("--incremental-issues", type=int, help="production size (default 5000)")
    p.add_argument("--rates", help="person edits per second (default 10,100)")
    p.add_argument("--duration", type=float, help="seconds of edits per rate (default 30)")
    p.add_argument(
        "--edit-mix",
        default="shotgrid,jira,shotgrid,jira,sheets",
        help="incremental: the tools edited, in turn",
    )
    p.add_argument("--settle", type=float, help="seconds allowed to catch up (default 90)")
    p.add_argument(
        "--jira-per-minute",
        type=float,
        help="incremental, what-if: the Jira connector's quota per endpoint (default: its own,"
        " 600); the goals table then labels the run a what-if",
    )
    p.add_argument("--ingest-levels", help="ingest concurrency levels (default 1,8,32,64)")
    p.add_argument("--ingest-n", type=int, help="deliveries per ingest level (default 2000)")
    p.add_argument(
        "--backends",
        type=_backends,
        default="sqlite,postgres",
        help="ingest stores: sqlite, postgres (default both)",
    )
    p.add_argument("--profile", type=Path, help="save cProfile data of syncd into this folder")
    p.add_argument("--out", type=Path, help="JSON file (default bench/results/<time>.json)")
    p.add_argument(
        "--into",
        type=Path,
        help="an earlier results file: run the chosen scenario again and replace its section"
        " there (the other sections, e.g. the initial sync a baseline is compared with, stay)",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    args = p.parse_args(argv)
    defaults = {
        "sizes": "1000,10000,100000",
        "baseline_sizes": "1000,10000",
        "invoices": initial.INVOICES,
        "latency_ms": 50.0,
        "jitter_ms": 10.0,
        "drain_seconds": 660.0,
        "incremental_issues": 5_000,
        "rates": "10,100",
        "duration": 30.0,
        "settle": 90.0,
        "ingest_levels": "1,8,32,64",
        "ingest_n": ingest_report.DEFAULT_DELIVERIES,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, QUICK[name] if args.quick else value)
    if args.into is not None:
        args.out = args.into
    if args.out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        args.out = Path("bench/results") / f"{stamp}{'-quick' if args.quick else ''}.json"
    return args


def run(args: argparse.Namespace, out: Console) -> Json:
    """Run the chosen scenarios; everything measured, as one JSON-ready dict.

    The JSON file is rewritten after each scenario, so a long run that fails late keeps
    what it measured; a scenario that fails is recorded with its error and the others go on.
    """
    err = Console(stderr=True)

    def log(message: str) -> None:
        err.log(message)

    chosen = set(SCENARIOS[1:]) if args.scenario == "all" else {args.scenario}
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    if args.into is not None:
        results: Json = json.loads(args.into.read_text())
        results.setdefault("reruns", []).append(
            {"scenarios": sorted(chosen), "machine": machine(), "settings": settings}
        )
        for name in chosen:
            results.get("errors", {}).pop(name, None)
    else:
        results = {"machine": machine(), "settings": settings}
    started = time.perf_counter()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("initial", lambda: _initial(args, results, out, log)),
        ("baseline", lambda: _baseline(args, results, out, log)),
        ("incremental", lambda: _incremental(args, results, out, log)),
        ("ingest", lambda: _ingest(args, results, out, log)),
    ]
    for name, step in steps:
        if name not in chosen:
            continue
        # The code can change under a long run (other people commit): say what each ran on.
        results.setdefault("code_by_scenario", {})[name] = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            **code_version(),
        }
        try:
            step()
        except Exception:  # the scenario boundary: record it, run the others
            results.setdefault("errors", {})[name] = traceback.format_exc()
            err.print(f"[red]{name} failed:[/red]\n{traceback.format_exc()}")
        write_json(args.out, results)
    results["goals"] = goals.check(results)
    end = {"load_at_end": list(load_average()), "code_at_end": code_version()}
    if args.into is not None:
        results["reruns"][-1].update(end, seconds=time.perf_counter() - started)
    else:
        results["machine"].update(end)
        results["seconds"] = time.perf_counter() - started
    goals.render(results["goals"], out, quick=args.quick)
    return results


Log = Callable[[str], None]


def _initial(args: argparse.Namespace, results: Json, out: Console, log: Log) -> None:
    runs = initial.run(
        _ints(args.sizes),
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        drain_seconds=args.drain_seconds,
        invoices=args.invoices,
        profile_dir=args.profile,
        log=log,
    )
    results["initial"] = runs
    results["floor"] = initial.floor_rows(runs)
    if results.get("baseline"):  # a re-run into a file that holds the baseline
        results["baseline"]["comparison"] = baseline.compare(runs, results["baseline"]["runs"])
    initial.render(runs, out)
    initial.render_floor(runs, out)


def _baseline(args: argparse.Namespace, results: Json, out: Console, log: Log) -> None:
    measured, failed = [], {}
    for size in sorted(_ints(args.baseline_sizes)):
        try:
            measured.append(
                baseline.run_size(
                    size,
                    latency_ms=args.latency_ms,
                    jitter_ms=args.jitter_ms,
                    invoices=args.invoices,
                    log=log,
                )
            )
        except Exception as exc:  # keep the sizes that worked
            failed[size] = str(exc)[-3000:]
            log(f"baseline, {size:,} issues: failed: {str(exc)[-500:]}")
    rows = list(measured)
    done = {m["issues"] for m in measured}
    for size in [r["issues"] for r in results.get("initial") or []]:
        if size not in done and len(measured) >= 2:
            rows.append(baseline.extrapolate(measured, size))
    comparison = baseline.compare(results.get("initial") or [], rows)
    results["baseline"] = {"runs": rows, "comparison": comparison, "failed": failed}
    baseline.render(rows, comparison, out)
    if failed:
        raise RuntimeError(f"the baseline failed at {sorted(failed)}")


def _incremental(args: argparse.Namespace, results: Json, out: Console, log: Log) -> None:
    results["incremental"] = incremental.run(
        issues=args.incremental_issues,
        rates=[float(x) for x in args.rates.split(",")],
        duration=args.duration,
        settle=args.settle,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        invoices=args.invoices,
        pattern=[t for t in args.edit_mix.split(",") if t],
        jira_per_minute=args.jira_per_minute,
        profile=args.profile / "incremental.prof" if args.profile else None,
        log=log,
    )
    incremental.render(results["incremental"], out)


def _ingest(args: argparse.Namespace, results: Json, out: Console, log: Log) -> None:
    results["ingest"] = ingest_report.run(
        _ints(args.ingest_levels),
        args.ingest_n,
        args.backends,
        log=log,
    )
    ingest_report.render(results["ingest"], out)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse(argv)
    tune_runtime()  # the measured syncd runs in this process for some scenarios, as `syncd` would
    out = console()
    m = machine()
    out.print(
        f"syncd benchmarks: {m['date']}, {m['cores']} cores ({m['cpu']}), load"
        f" {m['load_at_start'][0]:.2f}; sandbox latency {args.latency_ms:g} ms"
        f" + 0..{args.jitter_ms:g} ms per API call"
    )
    results = run(args, out)
    write_json(args.out, results)
    out.print(f"wrote {args.out}")
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
