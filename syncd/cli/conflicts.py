"""`syncd conflicts ...`: list open conflicts and resolve them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncd.cli.context import fail, settings_from
from syncd.service import Service

app = typer.Typer(help="List and resolve conflicts between the tools.", no_args_is_help=True)
out = Console()


@app.command("list")
def list_conflicts(
    ctx: typer.Context,
    everything: Annotated[bool, typer.Option("--all", help="resolved ones too")] = False,
) -> None:
    """Open conflicts: the field, what each tool holds, and since when."""
    service = Service(settings_from(ctx), schedule=False)
    with service.store.transaction() as tx:
        rows = tx.conflicts.find(status=None if everything else "open")
    table = Table("id", "record", "field", "base", "each tool holds", "since", "status")
    for row in rows:
        held = "; ".join(
            f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in row.candidates.items()
        )
        table.add_row(
            str(row.id),
            f"{row.kind} {row.record_id[:8]}",
            row.field,
            json.dumps(row.base, ensure_ascii=False),
            held,
            f"{row.opened_at:%Y-%m-%d %H:%M}",
            row.status,
        )
    out.print(table)
    service.close()


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    conflict_id: int,
    take: Annotated[str | None, typer.Option(help="keep this tool's value")] = None,
    value: Annotated[str | None, typer.Option(help="set this value (JSON)")] = None,
    by: Annotated[str, typer.Option(help="who decides, for the history")] = "cli",
) -> None:
    """Settle a conflict: take one tool's value, or set one; it is pushed to every tool."""
    if (take is None) == (value is None):
        fail("say either --take TOOL or --value JSON")
    service = Service(settings_from(ctx), schedule=False)
    with service.store.transaction() as tx:
        row = next((c for c in tx.conflicts.find(status="open") if c.id == conflict_id), None)
    if row is None:
        fail(f"no open conflict {conflict_id}")
    if take is not None:
        if take not in row.candidates:
            fail(f"{take!r} is not a side of this conflict: {', '.join(row.candidates)}")
        chosen = row.candidates[take]
    else:
        try:
            chosen = json.loads(value or "null")
        except json.JSONDecodeError as exc:
            fail(f"--value is not JSON: {exc}")
    service.engine.resolve_conflict(row.record_id, row.field, chosen, by)
    for name in service.connectors:
        service.engine.push_pending(name)
    out.print(f"conflict {conflict_id} resolved: {row.field} = {json.dumps(chosen)}")
    service.close()
