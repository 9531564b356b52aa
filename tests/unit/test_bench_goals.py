"""The goals table: a what-if run (another Jira quota) reports figures without a verdict."""

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
