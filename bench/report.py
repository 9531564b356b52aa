"""Markdown tables from a results file, for docs/performance.md.

python -m bench.report bench/results/<time>.json > /tmp/tables.md
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.common import Json, fmt, syncd_figure, write_json


def md_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table; figures formatted like the console tables."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) for c in row) + " |")
    return "\n".join(lines)


def _initial(runs: list[Json]) -> str:
    rows = []
    for r in runs:
        c = r["counts"]
        approx = "" if r["write_complete"] else "≈ "
        rows.append(
            [
                f"{r['issues']:,} issues, {c['sg_tasks']:,} tasks,"
                f" {c['sg_assets'] + c['sg_shots']:,} assets+shots, {c['invoice_rows']:,} rows",
                r["records"],
                r["read_seconds"],
                round(r["records_per_second"]),
                sum(r["pushed"].values()),
                approx
                + fmt(
                    r["write_seconds"]
                    + (0 if r["write_complete"] else r["left_seconds_extrapolated"])
                ),
                approx + fmt(r["total_seconds"]),
                r["calls_total"],
                r["rss_mb"]["peak"],
                r["sandbox_rss_mb"]["peak_rss_mb"],
                fmt(r["memory_growth_mb_per_10k"], 2),
                "/".join(f"{x:.1f}" for x in r["load_at_start"][:1] + r["load_at_end"][:1]),
            ]
        )
    return md_table(
        [
            "size",
            "records read",
            "read s",
            "records/s",
            "records written",
            "write s",
            "total s",
            "API calls",
            "syncd peak RSS MiB",
            "sandbox RSS MiB",
            "RSS growth MiB per 10k records",
            "load start/end",
        ],
        rows,
    )


def _calls(runs: list[Json]) -> str:
    rows = []
    for r in runs:
        for tool, endpoints in r["calls"].items():
            parts = sorted(endpoints.items(), key=lambda kv: -kv[1])
            rows.append([f"{r['issues']:,}", tool, ", ".join(f"`{e}` {n:,}" for e, n in parts)])
    return md_table(["size", "tool", "calls by endpoint"], rows)


def _floor(runs: list[Json]) -> str:
    rows = []
    for r in runs:
        f, tools = r["floor"], r["floor"]["tools"]
        approx = "" if r["write_complete"] else "≈ "
        rows.append(
            [
                f"{r['issues']:,}",
                " / ".join(f"{tools[t]['read_calls']}" for t in ("jira", "shotgrid", "sheets")),
                f["read_seconds"],
                r["read_seconds"],
                f"{r['ratio_read']:.1f}x",
                " / ".join(f"{tools[t]['write_calls']:,}" for t in ("jira", "shotgrid", "sheets")),
                f["total_seconds"],
                approx + fmt(r["total_seconds"]),
                f"{approx}{r['ratio_total']:.2f}x",
            ]
        )
    return md_table(
        [
            "size",
            "read calls jira / sg / sheets",
            "read floor s",
            "syncd read s",
            "read ratio",
            "write calls jira / sg / sheets",
            "floor with writes s",
            "syncd total s",
            "total ratio",
        ],
        rows,
    )


def _baseline(result: Json) -> str:
    runs = md_table(
        ["size", "records read", "record writes", "API calls", "seconds", "peak RSS MiB"],
        [
            [
                f"{b['issues']:,}" + ("" if b["measured"] else " (extrapolated)"),
                b["records_read"],
                b.get("record_writes", b.get("field_writes")),
                b["calls_total"],
                b["seconds"],
                b.get("peak_rss_mb"),
            ]
            for b in result["runs"]
        ],
    )
    ratios = md_table(
        [
            "size",
            "syncd s",
            "baseline s",
            "syncd / baseline time",
            "syncd calls",
            "baseline calls",
            "syncd / baseline calls",
        ],
        [
            [
                f"{c['issues']:,}" + ("" if c["baseline_measured"] else " (baseline extrapolated)"),
                syncd_figure(c, c["syncd_seconds"]),
                c["baseline_seconds"],
                f"{c['time_ratio']:.3f} (1/{1 / c['time_ratio']:.1f})",
                syncd_figure(c, c["syncd_calls"]),
                c["baseline_calls"],
                f"{c['calls_ratio']:.3f} (1/{1 / c['calls_ratio']:.1f})",
            ]
            for c in result["comparison"]
        ],
    )
    return runs + "\n\n" + ratios


def _incremental(result: Json) -> str:
    rows = []
    for r in result["rates"]:
        for name, s in r["latency"].items():
            rows.append(
                [
                    f"{r['rate']:g}/s",
                    name,
                    s["n"],
                    s["p50_ms"],
                    s["p95_ms"],
                    s["p99_ms"],
                    s["max_ms"],
                ]
            )
    latency = md_table(
        ["rate", "from the edit to", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows
    )
    flow = md_table(
        [
            "rate",
            "edits",
            "achieved /s",
            "caught up s after",
            "API calls",
            "Sheets writes/min",
            "Sheets reads/min",
            "overtaken",
            "never seen",
        ],
        [
            [
                f"{r['rate']:g}/s for {r['duration_s']:g} s",
                r["edits"],
                r["achieved_rate"],
                r["caught_up_s"],
                r["calls_total"],
                r["sheets_writes_per_minute"],
                r["sheets_reads_per_minute"],
                ", ".join(f"{k}: {v}" for k, v in r.get("overtaken", {}).items()) or "0",
                ", ".join(f"{k}: {v}" for k, v in r["missing"].items()) or "0",
            ]
            for r in result["rates"]
        ],
    )
    return latency + "\n\n" + flow


def _ingest(result: Json) -> str:
    rows = []
    for backend in ("sqlite", "postgres"):
        for r in result.get(backend) or []:
            rows.append(
                [
                    backend,
                    r["concurrency"],
                    r["deliveries"],
                    r["per_second"],
                    r["p50_ms"],
                    r["p99_ms"],
                    r["max_ms"],
                ]
            )
    return md_table(
        ["store", "concurrency", "deliveries", "per second", "ack p50 ms", "ack p99 ms", "max ms"],
        rows,
    )


def _goals(goals: list[Json]) -> str:
    def verdict(met: Any) -> str:
        if met is None or isinstance(met, str):  # "what-if": a run with another quota
            return "not measured" if met is None else met
        return "**met**" if met else "**not met**"

    return md_table(
        ["goal", "measured", "verdict"],
        [[g["goal"], g["figure"], verdict(g["met"])] for g in goals],
    )


def render(results: Json) -> str:
    """Every section present in `results`, as markdown."""
    m = results["machine"]
    parts = [
        f"Run of {m['date']} on {m['cores']} cores ({m['cpu']}), Python {m['python']},"
        f" commit {m.get('code', {}).get('commit', '?')}; load {m['load_at_start'][0]:.2f} at the"
        f" start, {m.get('load_at_end', [float('nan')])[0]:.2f} at the end; sandbox latency"
        f" {results['settings']['latency_ms']:g} ms + 0..{results['settings']['jitter_ms']:g} ms"
        " per API call.",
    ]
    if results.get("initial"):
        parts += [
            "### Initial sync",
            _initial(results["initial"]),
            "#### API calls by endpoint",
            _calls(results["initial"]),
            "### The floor",
            _floor(results["initial"]),
        ]
    if results.get("baseline"):
        parts += ["### Baseline: an afternoon script", _baseline(results["baseline"])]
    if results.get("incremental"):
        parts += ["### Incremental latency", _incremental(results["incremental"])]
    if results.get("ingest"):
        parts += ["### Webhook ingest", _ingest(results["ingest"])]
    if results.get("goals"):
        parts += ["### Goals", _goals(results["goals"])]
    return "\n\n".join(parts) + "\n"


def recompute(results: Json) -> Json:
    """Floors, ratios, the syncd / baseline comparison and the goals, from measured figures."""
    from bench import baseline, goals, initial

    for run in results.get("initial") or []:
        initial.finish_figures(run)
    if results.get("initial"):
        results["floor"] = initial.floor_rows(results["initial"])
    if results.get("baseline"):
        runs = results["baseline"]["runs"]
        results["baseline"]["comparison"] = baseline.compare(results.get("initial") or [], runs)
    results["goals"] = goals.check(results)
    results.setdefault("notes", []).append("derived figures recomputed by bench.report")
    return results


def main() -> None:
    """Print the markdown for one results file (or recompute its derived figures)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--recompute", action="store_true", help="rewrite derived figures")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    if args.recompute:
        write_json(args.results, recompute(results))
    print(render(results))


if __name__ == "__main__":
    main()
