"""The goals of issue #7, checked against measured figures (never asserted in tests).

Each check says what was compared, with which figures, and whether it holds; a goal whose
scenario did not run (or ran at other sizes) is reported as not measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console

from bench.common import Json, table

FLOOR_RATIO = 1.5
BASELINE_FACTOR = 5.0
RSS_LIMIT_MB = 300.0
PUSH_P99_ABOVE_S = {10.0: 1.0, 100.0: 2.0}
INGEST_PER_SECOND = 1_000.0
INGEST_P99_MS = 50.0
SHEETS_WRITES_PER_MINUTE = 60.0


def _goal(goal: str, figure: str, met: bool | str | None) -> Json:
    return {"goal": goal, "figure": figure, "met": met}


def _initial(results: Iterable[Json]) -> list[Json]:
    out = []
    by_size = {r["issues"]: r for r in results}
    for size in (10_000, 100_000):
        r = by_size.get(size)
        if r is None:
            out.append(_goal(f"initial sync ≤ {FLOOR_RATIO}x floor at {size:,}", "not run", None))
            continue
        out.append(
            _goal(
                f"initial sync read ≤ {FLOOR_RATIO}x read floor at {size:,}",
                f"{r['read_seconds']:.1f} s / {r['floor']['read_seconds']:.1f} s"
                f" = {r['ratio_read']:.1f}x",
                r["ratio_read"] <= FLOOR_RATIO,
            )
        )
        approx = "" if r["write_complete"] else "≈"
        out.append(
            _goal(
                f"initial sync total ≤ {FLOOR_RATIO}x floor with writes at {size:,}",
                f"{approx}{r['total_seconds']:.0f} s / {r['floor']['total_seconds']:.0f} s"
                f" = {r['ratio_total']:.2f}x",
                r["ratio_total"] <= FLOOR_RATIO,
            )
        )
    r = by_size.get(100_000)
    out.append(
        _goal(
            f"peak RSS < {RSS_LIMIT_MB:.0f} MB at 100k records",
            f"{r['rss_mb']['peak']:.0f} MiB (syncd process)" if r else "not run",
            r["rss_mb"]["peak"] * 1.048576 < RSS_LIMIT_MB if r else None,
        )
    )
    return out


def _baseline(comparison: Iterable[Json]) -> list[Json]:
    out = []
    for c in comparison:
        label = f"{c['issues']:,}" + ("" if c["baseline_measured"] else " (baseline extrapolated)")
        out.append(
            _goal(
                f"≥ {BASELINE_FACTOR:g}x less time than the baseline at {label}",
                f"{1 / c['time_ratio']:.1f}x less",
                1 / c["time_ratio"] >= BASELINE_FACTOR,
            )
        )
        out.append(
            _goal(
                f"≥ {BASELINE_FACTOR:g}x fewer API calls than the baseline at {label}",
                f"{1 / c['calls_ratio']:.1f}x fewer",
                1 / c["calls_ratio"] >= BASELINE_FACTOR,
            )
        )
    return out


def _incremental(result: Json | None) -> list[Json]:
    if not result:
        return [_goal("incremental latency", "not run", None)]
    out = []
    path_s = 2 * (result["latency_ms"] + result["jitter_ms"]) / 1000  # fetch + push
    what_if = result.get("jira_per_minute")
    # A run with another Jira quota says what a site granted it would see: not a verdict.
    label = f" (what-if: Jira at {what_if:g}/min)" if what_if else ""
    for r in result["rates"]:
        push = r["latency"].get("push (all)")
        allowed = PUSH_P99_ABOVE_S.get(float(r["rate"]))
        if allowed is not None:
            p99 = push["p99_ms"] / 1000 if push else None
            missing = sum(v for k, v in r["missing"].items() if k.startswith("push"))
            # By direction too: one may be bound by a tool's write quota, the other not.
            directions = ", ".join(
                f"{k.removeprefix('push ')} {v['p99_ms'] / 1000:.2f} s"
                for k, v in sorted(r["latency"].items())
                if k.startswith("push ") and k != "push (all)"
            )
            met = p99 is not None and p99 < allowed + path_s and not missing
            out.append(
                _goal(
                    f"webhook-to-push p99 < {allowed:g} s + sandbox path ({path_s:.2f} s)"
                    f" at {r['rate']:g} edits/s{label}",
                    (f"p99 {p99:.2f} s" if p99 is not None else "no push seen")
                    + (f" ({directions})" if directions else "")
                    + (f", {missing} not seen" if missing else ""),
                    "what-if" if what_if else met,
                )
            )
        out.append(
            _goal(
                f"Sheets writes < {SHEETS_WRITES_PER_MINUTE:.0f}/min at {r['rate']:g} edits/s",
                f"{r['sheets_writes_per_minute']:.1f}/min",
                r["sheets_writes_per_minute"] < SHEETS_WRITES_PER_MINUTE,
            )
        )
    return out


def _ingest(rows: list[Json] | None) -> list[Json]:
    if not rows:
        return [_goal("webhook ingest on SQLite", "not run", None)]
    ok = [r for r in rows if r["per_second"] >= INGEST_PER_SECOND and r["p99_ms"] < INGEST_P99_MS]
    best = max(rows, key=lambda r: r["per_second"])
    figure = (
        f"{ok[0]['per_second']:,.0f}/s, p99 {ok[0]['p99_ms']:.1f} ms at concurrency"
        f" {ok[0]['concurrency']}"
        if ok
        else f"best {best['per_second']:,.0f}/s (p99 {best['p99_ms']:.1f} ms,"
        f" concurrency {best['concurrency']})"
    )
    return [
        _goal(
            f"webhook ingest ≥ {INGEST_PER_SECOND:,.0f}/s with p99 ack < {INGEST_P99_MS:g} ms"
            " (SQLite)",
            figure,
            bool(ok),
        )
    ]


def check(results: Json) -> list[Json]:
    """Every goal, with its figure and whether it is met (None: not measured)."""
    goals: list[Json] = []
    goals += _initial(results.get("initial") or [])
    goals += _baseline((results.get("baseline") or {}).get("comparison") or [])
    goals += _incremental(results.get("incremental"))
    goals += _ingest((results.get("ingest") or {}).get("sqlite"))
    return goals


def render(goals: list[Json], out: Console, *, quick: bool = False) -> None:
    """The goals table (a quick run's sizes are too small to judge by)."""

    def verdict(met: Any) -> str:
        if met is None or isinstance(met, str):
            return "not measured" if met is None else met
        return "met" if met else "NOT MET"

    out.print(
        table(
            "Goals (issue #7)" + (": a --quick smoke run, too small to judge by" if quick else ""),
            ["what", "figure", "verdict"],
            [[g["goal"], g["figure"], verdict(g["met"])] for g in goals],
        )
    )
