"""`syncd mappings ...`: validate, diff, apply, list versions, roll back."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncd.cli.context import fail, print_problems, settings_from
from syncd.errors import ConfigError
from syncd.mapping.load import MappingSet, load_mappings, read_sources
from syncd.mapping_versions import MappingVersions
from syncd.registry import read_only_paths
from syncd.store.store import Store

app = typer.Typer(help="Check and manage field mappings.", no_args_is_help=True)
out = Console()

PathArg = Annotated[
    Path | None, typer.Argument(help="a mapping file or folder (default: mappings_dir)")
]


def _load(path: Path) -> MappingSet:
    try:
        return load_mappings(path, read_only_paths())
    except ConfigError as exc:
        print_problems(exc)
        errors = [p for p in exc.problems if not p.warning]
        fail(f"{len(errors)} error(s) in {path}")


@app.command("validate")
def validate(ctx: typer.Context, path: PathArg = None) -> None:
    """Check mapping files; print every problem with its place and exit 1 if any."""
    target = path or (settings_from(ctx).mappings_dir if ctx.obj else Path("mappings"))
    mappings = _load(target)
    for warning in mappings.warnings:
        out.print(str(warning), style="yellow", markup=False, highlight=False, soft_wrap=True)
    files = ", ".join(source.name for source in mappings.sources)
    out.print(f"ok: {files} (version {mappings.version})", highlight=False, soft_wrap=True)


def _versions(ctx: typer.Context) -> MappingVersions:
    settings = settings_from(ctx)
    return MappingVersions(Store(settings.store_url), read_only_paths())


@app.command("diff")
def diff(ctx: typer.Context, path: PathArg = None) -> None:
    """Show how the files differ from the active stored version."""
    target = path or settings_from(ctx).mappings_dir
    versions = _versions(ctx)
    active = next((v for v in versions.all() if v.active), None)
    stored = {} if active is None else {s.name: s.text for s in versions.sources(active.id)}
    current = {s.name: s.text for s in read_sources(target)}
    changed = False
    for name in sorted(set(stored) | set(current)):
        lines = difflib.unified_diff(
            stored.get(name, "").splitlines(keepends=True),
            current.get(name, "").splitlines(keepends=True),
            fromfile=f"active:{name}",
            tofile=name,
        )
        text = "".join(lines)
        if text:
            changed = True
            out.print(text, markup=False, highlight=False, end="")
    if not changed:
        out.print("no difference with the active version")


@app.command("apply")
def apply(
    ctx: typer.Context,
    path: PathArg = None,
    note: Annotated[str | None, typer.Option(help="why, for the history")] = None,
    by: Annotated[str, typer.Option(help="who applies it")] = "cli",
) -> None:
    """Validate the files and store them as the new active version (the service reloads)."""
    target = path or settings_from(ctx).mappings_dir
    mappings = _load(target)
    version_id = _versions(ctx).save(mappings, by=by, note=note)
    out.print(f"applied as version {version_id} ({mappings.version})")


@app.command("versions")
def versions(ctx: typer.Context) -> None:
    """List stored mapping versions."""
    table = Table("id", "version", "when", "by", "note", "active")
    for v in _versions(ctx).all():
        table.add_row(
            str(v.id),
            v.version,
            f"{v.created_at:%Y-%m-%d %H:%M}",
            v.created_by,
            v.note or "",
            "yes" if v.active else "",
        )
    out.print(table)


@app.command("rollback")
def rollback(ctx: typer.Context, version_id: int) -> None:
    """Make an earlier version active again."""
    try:
        mappings = _versions(ctx).activate(version_id)
    except KeyError as exc:
        fail(str(exc))
    out.print(f"version {version_id} ({mappings.version}) is active again")
