"""`python -m bench all --quick` runs every scenario end to end and reports every section.

Tiny sizes and a few milliseconds of sandbox latency: this checks that the benchmark works
(processes start, talk, measure, print and write JSON), never how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "all", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for title in (
        "Initial sync",
        "The floor",
        "Baseline: an afternoon script",
        "Incremental",
        "Webhook ingest",
    ):
        assert title in done.stdout

    results = json.loads(out.read_text())
    assert {"machine", "settings", "initial", "floor", "baseline", "incremental", "ingest"} <= set(
        results
    )
    assert results["settings"]["quick"] is True

    (run,) = results["initial"]
    assert run["records"] > 0
    assert run["calls"]["jira"] and run["calls"]["shotgrid"] and run["calls"]["sheets"]
    assert run["rss_mb"]["peak"] > 0 and run["sandbox_rss_mb"]["peak_rss_mb"] > 0
    assert set(run["floor"]["tools"]) == {"jira", "shotgrid", "sheets"}
    assert results["floor"][0]["issues"] == run["issues"]

    (naive,) = results["baseline"]["runs"]
    assert naive["measured"] and naive["calls_total"] > 0
    (ratio,) = results["baseline"]["comparison"]
    assert ratio["time_ratio"] > 0 and ratio["calls_ratio"] > 0

    (stream,) = results["incremental"]["rates"]
    assert stream["edits"] > 0
    assert "stored (all)" in stream["latency"]
    assert "sheets_writes_per_minute" in stream

    assert results["ingest"]["sqlite"], "the SQLite ingest figures are missing"
    assert all(row["deliveries"] > 0 for row in results["ingest"]["sqlite"])
    assert results["goals"] and all({"goal", "figure", "met"} <= set(g) for g in results["goals"])
