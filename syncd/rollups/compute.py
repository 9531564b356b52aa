"""`compute_rollups`: every rollup from one `RollupInput`, as the tabs of a `RollupSet`. Pure.

Each rollup is defined in its own module (`milestones`, `load`, `pipeline`, `budget`,
`health`) on the shared definitions of `definitions`; the summary reads their results.
Rows are sorted, so the same input always gives the same tables.
"""

from __future__ import annotations

from syncd.rollups.budget import (
    budget_tab,
    line_spend,
    milestone_spend,
    overdue_invoices,
    totals,
)
from syncd.rollups.definitions import Converter
from syncd.rollups.health import health_tab, problems
from syncd.rollups.in_conflict import as_last_agreed
from syncd.rollups.load import department_load, load_tab, people_load
from syncd.rollups.milestones import all_progress, burnup, milestones_tab, next_milestone
from syncd.rollups.model import RollupInput, RollupSet
from syncd.rollups.pipeline import matrix, pipeline_tab, status_counts, step_order
from syncd.rollups.summary import SummaryInputs, summary_tab
from syncd.settings import RollupSettings


def compute_rollups(data: RollupInput, settings: RollupSettings) -> RollupSet:
    """Every tab: the summary, milestones, load, pipeline, budget and sync health. A field
    in conflict counts with its last agreed value (`in_conflict.py`)."""
    data = as_last_agreed(data)
    converter = Converter.of(settings.reporting_currency, settings.rates)
    progress = all_progress(data, settings)
    focus = next_milestone(progress, data.today)
    points = burnup(focus, data, settings) if focus is not None else []
    departments = department_load(data, settings)
    people = people_load(data, settings)
    steps = step_order(data, settings)
    lines = line_spend(data, converter)
    per_milestone = milestone_spend(data, converter, settings)
    overdue = overdue_invoices(data, converter, settings)
    found = problems(data)
    parts = SummaryInputs(
        focus=focus,
        departments=departments,
        lines=lines,
        total=totals(per_milestone),
        overdue_invoices=overdue,
        problems=len(found),
    )
    return RollupSet(
        tabs=(
            summary_tab(data, parts, converter, settings),
            milestones_tab(progress, focus, points, data, settings),
            load_tab(departments, people, data, settings),
            pipeline_tab(matrix(data, settings, steps), steps, status_counts(data, settings)),
            budget_tab(lines, per_milestone, overdue, converter, settings),
            health_tab(data, found, settings),
        ),
        currency=converter.currency,
        computed_at=data.now,
    )
