"""The asset pipeline: where each asset or shot is, step by step, and counts per status.

- The matrix has one row per asset (by type, then name) and one column per pipeline step
  (`pipeline_steps` first, then the other steps found, alphabetically). A cell holds the
  pipeline status of the asset's task for that step: tasks are matched by the asset they
  are on (`linked_asset` = the asset's name) and their step (their name in the pipeline
  tool). With several tasks for one step the least advanced status is shown; with none,
  the asset's own `step_statuses` entry if it has one. A status the mapping could not read
  shows as "unmapped: <value>".
- The counts table has one row per asset type: how many assets are in each pipeline status
  (the asset's own status), "unknown" when it could not be read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from syncd.model import Asset, PipelineStatus
from syncd.rollups.model import (
    Alert,
    Chart,
    Column,
    Entry,
    Kind,
    RollupInput,
    RollupTab,
    RollupTable,
    TaskEntry,
    Value,
)
from syncd.settings import RollupSettings

NO_TYPE = "(no type)"
NO_ASSET_RECORD = "(no asset record)"
UNKNOWN = "unknown"
# Least advanced first: the order the matrix uses to pick one status among several tasks.
ADVANCE = (
    PipelineStatus.ON_HOLD, PipelineStatus.WAITING, PipelineStatus.READY,
    PipelineStatus.IN_PROGRESS, PipelineStatus.REVIEW, PipelineStatus.APPROVED,
    PipelineStatus.FINAL, PipelineStatus.OMITTED,
)  # fmt: skip
STATUS_ALERTS = (
    Alert("is", "good", words=("approved", "final")),
    Alert("is", "warn", words=("review",)),
    Alert("is", "bad", words=("on hold",)),
)


def word(status: str | None) -> str:
    """A pipeline status as shown: "in_progress" -> "in progress"."""
    return UNKNOWN if status is None else status.replace("_", " ")


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One asset of the matrix: its type, own status and status per step."""

    name: str
    asset_type: str
    status: str
    steps: dict[str, str]


def status_text(entry: Entry[Asset] | TaskEntry) -> str:
    """An entry's pipeline status as shown; "unmapped: <value>" when a source's was unreadable."""
    status = entry.record.pipeline_status
    if status is not None:
        return word(status)
    raw = next((f.value for f in entry.flags if f.field == "pipeline_status"), None)
    return f"unmapped: {raw}" if raw is not None else UNKNOWN


def _task_status(entry: TaskEntry) -> tuple[int, str]:
    """(advance rank, text) of a task's pipeline status; unreadable ones rank first."""
    status = entry.record.pipeline_status
    rank = -1 if status is None else ADVANCE.index(PipelineStatus(status))
    return (rank, status_text(entry))


def step_order(data: RollupInput, settings: RollupSettings) -> list[str]:
    """The matrix's step columns."""
    found = {e.step for e in data.tasks if e.step and e.record.linked_asset}
    for asset in data.assets:
        found |= set(asset.record.step_statuses)
    listed = list(settings.pipeline_steps)
    return listed + sorted(found - set(listed))


def matrix(data: RollupInput, settings: RollupSettings, steps: Sequence[str]) -> list[AssetRow]:
    """One row per asset shown: its status in each step."""
    cells: dict[tuple[str, str], tuple[int, str]] = {}
    for entry in data.tasks:
        asset, step = entry.record.linked_asset, entry.step
        if not asset or not step:
            continue
        ranked = _task_status(entry)
        current = cells.get((asset, step))
        cells[(asset, step)] = ranked if current is None else min(current, ranked)
    records: dict[str, Entry[Asset]] = {}
    for asset_entry in data.assets:
        if asset_entry.record.name:
            records.setdefault(asset_entry.record.name, asset_entry)
    names = set(records) | {asset for asset, _ in cells}
    rows = []
    for name in names:
        found_entry = records.get(name)
        record = found_entry.record if found_entry else None
        asset_type = (record.asset_type or NO_TYPE) if record else NO_ASSET_RECORD
        if settings.asset_types and asset_type not in settings.asset_types:
            continue
        own = record.step_statuses if record else {}
        statuses = {}
        for step in steps:
            found = cells.get((name, step))
            if found is not None:
                statuses[step] = found[1]
            elif step in own:
                statuses[step] = word(own[step])
        status = status_text(found_entry) if found_entry else ""
        rows.append(AssetRow(name, asset_type, status, statuses))
    rows.sort(key=lambda row: (row.asset_type, row.name))
    return rows


def status_counts(data: RollupInput, settings: RollupSettings) -> dict[str, Counter[str]]:
    """Per asset type: how many assets are in each pipeline status (their own status)."""
    counts: dict[str, Counter[str]] = {}
    for entry in data.assets:
        asset = entry.record
        asset_type = asset.asset_type or NO_TYPE
        if settings.asset_types and asset_type not in settings.asset_types:
            continue
        counts.setdefault(asset_type, Counter())[asset.pipeline_status or UNKNOWN] += 1
    return counts


def pipeline_tab(
    rows: Sequence[AssetRow], steps: Sequence[str], counts: dict[str, Counter[str]]
) -> RollupTab:
    """The pipeline tab: counts per type (with the chart), then the matrix."""
    return RollupTab(
        key="pipeline",
        title="Pipeline",
        question="Where is each asset in the pipeline?",
        tables=(_counts_table(counts), _matrix_table(rows, steps)),
    )


def _counts_table(counts: dict[str, Counter[str]]) -> RollupTable:
    statuses = [s.value for s in ADVANCE]
    columns = [
        Column("type", "Asset type", Kind.TEXT, "The asset type (shot for shots)."),
        Column("assets", "Assets", Kind.INT, "Assets of that type."),
    ]
    columns += [
        Column(s, word(s).capitalize(), Kind.INT, f"Assets whose own status is {word(s)}.")
        for s in statuses
    ]
    columns.append(
        Column(UNKNOWN, "Unknown", Kind.INT, "Assets whose status could not be read (flagged).")
    )
    rows: list[tuple[Value, ...]] = []
    for asset_type in sorted(counts):
        counter = counts[asset_type]
        values: list[Value] = [asset_type, sum(counter.values())]
        values += [counter.get(s, 0) for s in [*statuses, UNKNOWN]]
        rows.append(tuple(values))
    return RollupTable(
        key="pipeline_counts",
        title="Assets per status",
        columns=tuple(columns),
        rows=tuple(rows),
        chart=Chart(
            title="Pipeline status by asset type",
            type="BAR",
            domain="type",
            series=(*statuses, UNKNOWN),
            stacked=True,
        ),
    )


def _matrix_table(rows: Sequence[AssetRow], steps: Sequence[str]) -> RollupTable:
    columns = [
        Column("asset", "Asset", Kind.TEXT, "The asset or shot code."),
        Column("type", "Type", Kind.TEXT, "Its type."),
        Column("status", "Status", Kind.STATUS, "Its own pipeline status.", STATUS_ALERTS),
    ]
    columns += [
        Column(
            f"step:{step}",
            step,
            Kind.STATUS,
            f"Pipeline status of its {step} task (blank: no such task).",
            STATUS_ALERTS,
        )
        for step in steps
    ]
    values = tuple(
        (row.name, row.asset_type, row.status or None, *(row.steps.get(s) for s in steps))
        for row in rows
    )
    return RollupTable(
        key="pipeline_matrix",
        title="Pipeline matrix",
        columns=tuple(columns),
        rows=values,
        notes=("Cells: the status of the asset's task for that step (blank: no task).",),
    )
