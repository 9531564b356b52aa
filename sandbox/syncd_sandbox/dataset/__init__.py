"""The seeded production generator: a deterministic, realistic game production.

`generate(seed=7, issues=DEMO)` builds a `Production` (see `syncd_sandbox.production`)
for a mid-size studio making "Harbor Lights", an action-adventure game: milestones,
departments, people with non-ASCII names, ShotGrid assets/shots/tasks, Jira issues linked
to part of them, and the budget spreadsheet's "Invoices" and "Budget" tabs, mess included.
`Production.notes` says where each planted piece of mess is.

Modules: `generator` (entry point, sizes, planting), `people`, `pipeline` (ShotGrid),
`tickets` (Jira), `invoices` and `budget` (Sheets), with constant data in `names`,
`vocabulary` and `vendors`, dates in `schedule` and randomness in `draw`.
"""

from syncd_sandbox.dataset.generator import (
    BENCH,
    DEMO,
    MIN_ISSUES,
    Sizes,
    generate,
    plan_sizes,
)
from syncd_sandbox.dataset.schedule import EPOCH, EPOCH_AT

__all__ = ["BENCH", "DEMO", "EPOCH", "EPOCH_AT", "MIN_ISSUES", "Sizes", "generate", "plan_sizes"]
