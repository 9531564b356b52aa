"""The floor: the least time any client could take for the same work at the sandbox's latency.

Only calls that cannot be avoided count:

- reads: list pages at each tool's maximum page size (Jira search with fields: 100;
  ShotGrid REST: 500; one Sheets `values:batchGet` for every tab), plus the constants a
  correct client needs (Jira's field list, for custom field names, and one user page per
  1,000 people; ShotGrid's sign-in and one people page; the Google token exchange). No
  trash read, `serverInfo` or `myself`: a first full read can do without them.
- writes: one call per record whose values must change (Jira REST v3 edits one issue per
  call), one `_batch` per 100 ShotGrid updates, one write per sheet flush (all cells in one
  `values:batchUpdate`). How many records must change is a property of the data and the
  mappings; the number is syncd's own count of records written.

A tool's reads are sequential (pages of one cursor are; the few other lists are counted
in line). Writes may run in parallel, but a tool's calls cannot outrun the quota its
connector respects by default (a token bucket: Jira 600 a minute per endpoint and method,
so searches and issue edits have a budget each; ShotGrid 300 a minute for all calls;
Sheets 60 reads and 60 writes a minute; each with a burst of a tenth of that). So a tool
takes at least max(reads x latency + one write's latency, (calls in one budget - burst) /
rate), and the three tools run in parallel: the floor is the slowest tool. A call costs the
sandbox's mean added latency (latency + jitter / 2); the emulators' own work counts as zero.

The **read floor** is the brief's floor (pages and the sheet flush only); the **total floor**
adds the unavoidable writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bench.common import Json

JIRA_PAGE = 100  # search/jql with fields
JIRA_USERS_PAGE = 1_000
SG_PAGE = 500
SG_BATCH = 100
TOOLS = ("jira", "shotgrid", "sheets")
PER_MINUTE = {"jira": 600.0, "shotgrid": 300.0, "sheets": 60.0}  # the connectors' defaults
# Tools whose reads and writes draw on separate budgets (Jira: per endpoint and method;
# Sheets: a read quota and a write quota); ShotGrid's connector paces all calls together.
SEPARATE_BUDGETS = frozenset({"jira", "sheets"})


def read_calls(counts: Mapping[str, int]) -> dict[str, int]:
    """Unavoidable read calls per tool for a full read of a production of these counts."""
    people = counts["people"]
    issue_pages = math.ceil(counts["jira_issues"] / JIRA_PAGE)
    sg_pages = sum(math.ceil(counts[k] / SG_PAGE) for k in ("sg_tasks", "sg_assets", "sg_shots"))
    return {
        "jira": 1 + math.ceil(people / JIRA_USERS_PAGE) + issue_pages,
        "shotgrid": 1 + math.ceil(people / SG_PAGE) + sg_pages,
        "sheets": 1 + 1,
    }


def write_calls(pushed: Mapping[str, int], sheet_flushes: int | None = None) -> dict[str, int]:
    """Unavoidable write calls per tool, given how many records must change in each."""
    flushes = sheet_flushes if sheet_flushes is not None else int(pushed.get("sheets", 0) > 0)
    return {
        "jira": pushed.get("jira", 0),
        "shotgrid": math.ceil(pushed.get("shotgrid", 0) / SG_BATCH),
        "sheets": flushes,
    }


def tool_seconds(
    reads: int, writes: int, per_call: float, per_minute: float, *, separate: bool = False
) -> float:
    """Least time for one tool: sequential reads, then writes bounded by the quota
    (one budget for both, or one each when `separate`)."""
    rate, burst = per_minute / 60, per_minute / 6
    sequential = reads * per_call + (per_call if writes else 0.0)
    budgets = (reads, writes) if separate else (reads + writes,)
    quota = max(max(0.0, (calls - burst) / rate) for calls in budgets)
    return max(sequential, quota)


def floor(
    counts: Mapping[str, int],
    *,
    pushed: Mapping[str, int],
    latency_ms: float,
    jitter_ms: float,
    sheet_flushes: int | None = None,
) -> Json:
    """Per tool and overall: the read floor, and the floor with the unavoidable writes."""
    per_call = (latency_ms + jitter_ms / 2) / 1000
    reads, writes = read_calls(counts), write_calls(pushed, sheet_flushes)
    tools: dict[str, Json] = {}
    for tool in TOOLS:
        # The brief's floor: pages, plus the sheet flush (the one write it names).
        brief_writes = writes[tool] if tool == "sheets" else 0
        rate, separate = PER_MINUTE[tool], tool in SEPARATE_BUDGETS
        tools[tool] = {
            "read_calls": reads[tool],
            "write_calls": writes[tool],
            "read_seconds": tool_seconds(
                reads[tool], brief_writes, per_call, rate, separate=separate
            ),
            "seconds": tool_seconds(reads[tool], writes[tool], per_call, rate, separate=separate),
        }
    return {
        "per_call_seconds": per_call,
        "tools": tools,
        "read_seconds": max(t["read_seconds"] for t in tools.values()),
        "total_seconds": max(t["seconds"] for t in tools.values()),
        "read_calls": sum(reads.values()) + writes["sheets"],
        "calls": sum(reads.values()) + sum(writes.values()),
    }
