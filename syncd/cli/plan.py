"""Printing a dry run's list: the writes, conflicts and links a sync would make."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from syncd.engine.plan import DryRunPlan
from syncd.model import JsonValue


def shown(value: JsonValue) -> str:
    """A value as people read it (`—` for none)."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def print_plan(plan: DryRunPlan, out: Console) -> None:
    """Every write (tool, record, field, current → new, why), then conflicts and links."""
    writes = Table("tool", "record", "field", "now → would be", "why", title="writes")
    for w in plan.writes:
        record = f"{w.entity} {w.key}" + (f" ({w.title})" if w.title else "")
        change = f"{shown(w.current)} → {shown(w.new)}"
        writes.add_row(w.tool, record, f"{w.field} ({w.path})", change, w.why)
    out.print(writes)
    conflicts = Table("record", "field", "what each tool holds", title="conflicts to open")
    for c in plan.conflicts:
        held = "; ".join(f"{tool}: {shown(value)}" for tool, value in sorted(c.candidates.items()))
        record = ", ".join(c.records) + (f" ({c.title})" if c.title else "")
        conflicts.add_row(record, c.field, held)
    out.print(conflicts)
    links = Table("records found to be one", "title", title="links to make")
    for link in plan.links:
        links.add_row(" ↔ ".join(link.records), link.title or "—")
    out.print(links)
    out.print(
        f"dry run: {len(plan.writes)} write(s), {len(plan.conflicts)} conflict(s) to open, "
        f"{len(plan.links)} record(s) to link; nothing was stored or written"
    )
