"""The bench's derived figures: what-if runs get no verdict; syncd's calls count the writes left."""

from __future__ import annotations

from typing import Any

from bench import goals


def _incremental(jira_per_minute: float | None) -> dict[str, Any]:
    push = {"p50_ms": 400.0, "p95_ms": 700.0, "p99_ms": 900.0}
    return {
        "latency_ms": 50.0,
        "jitter_ms": 10.0,
        "jira_per_minute": jira_per_minute,
        "rates": [
            {
                "rate": 100.0,
                "latency": {"push (all)": push, "push ShotGrid → Jira": push},
                "missing": {"push (all)": 0},
                "sheets_writes_per_minute": 2.0,
            }
        ],
    }


def _push_goal(jira_per_minute: float | None) -> dict[str, Any]:
    (goal,) = [g for g in goals._incremental(_incremental(jira_per_minute)) if "push" in g["goal"]]
    return goal


def test_a_run_at_the_connectors_own_quota_gets_a_verdict() -> None:
    goal = _push_goal(None)
    assert goal["met"] is True and "what-if" not in goal["goal"]


def test_a_what_if_run_is_labelled_and_gets_no_verdict() -> None:
    goal = _push_goal(3000.0)
    assert goal["met"] == "what-if"
    assert "what-if: Jira at 3000/min" in goal["goal"]
    assert "p99 0.90 s" in goal["figure"]


def _initial_run(*, complete: bool) -> dict[str, Any]:
    return {
        "issues": 10_000,
        "counts": {
            "jira_issues": 10_000,
            "sg_tasks": 8_571,
            "sg_assets": 1_500,
            "sg_shots": 600,
            "people": 300,
        },
        "latency_ms": 50.0,
        "jitter_ms": 10.0,
        "records": 25_702,
        "read_seconds": 8.0,
        "write_seconds": 40.0,
        "write_complete": complete,
        "left_seconds_extrapolated": 900.0,
        "pushed": {"jira": 400, "shotgrid": 1_000, "sheets": 0},
        "outbox_left": {"jira": 9_600, "shotgrid": 0, "sheets": 0} if not complete else {},
        "write_calls": {"jira": 440, "shotgrid": 20, "sheets": 0},
        "calls_total": 650,
        "rss_mb": {"samples": [[1.0, 1_000, 150.0], [8.0, 25_702, 200.0]]},
    }


def test_syncd_calls_count_the_writes_left_at_the_calls_each_write_took() -> None:
    from bench import baseline, initial

    run = _initial_run(complete=False)
    initial.finish_figures(run)
    assert run["calls_total_extrapolated"] == 650 + 9_600 * 440 // 400
    naive = {"issues": 10_000, "measured": False, "seconds": 3_500.0, "calls_total": 59_463}
    (row,) = baseline.compare([run], [naive])
    assert row["syncd_calls"] == run["calls_total_extrapolated"] and row["syncd_extrapolated"]
    assert row["calls_ratio"] == run["calls_total_extrapolated"] / 59_463

    whole = _initial_run(complete=True)
    initial.finish_figures(whole)
    assert whole["calls_total_extrapolated"] == 650
    (row,) = baseline.compare([whole], [naive])
    assert row["syncd_calls"] == 650 and not row["syncd_extrapolated"]
