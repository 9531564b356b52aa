"""The `syncd` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from syncd import __version__
from syncd.errors import ConfigError
from syncd.mapping.load import load_mappings
from syncd.registry import read_only_paths

app = typer.Typer(
    help="syncd: keep Jira, Google Sheets and ShotGrid in step.", no_args_is_help=True
)
mappings_app = typer.Typer(help="Check and manage field mappings.", no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")


@app.command()
def version() -> None:
    """Print syncd's version."""
    Console().print(__version__)


@mappings_app.command("validate")
def mappings_validate(
    path: Annotated[Path, typer.Argument(help="a mapping file or a folder of them")] = Path(
        "mappings"
    ),
) -> None:
    """Check mapping files; print every problem with its place and exit 1 if any."""
    console = Console(stderr=True)
    try:
        mappings = load_mappings(path, read_only_paths())
    except ConfigError as exc:
        errors = [p for p in exc.problems if not p.warning]
        for problem in exc.problems:
            style = "yellow" if problem.warning else "red"
            console.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
        console.print(f"[red]{len(errors)} error(s)[/red] in {path}")
        raise typer.Exit(1) from None
    for warning in mappings.warnings:
        console.print(str(warning), style="yellow", markup=False, highlight=False, soft_wrap=True)
    files = ", ".join(source.name for source in mappings.sources)
    Console().print(f"ok: {files} (version {mappings.version})", highlight=False, soft_wrap=True)


@app.command()
def demo() -> None:
    """Run syncd against the sandbox (arrives with the service, issue 5)."""
    Console(stderr=True).print(
        "not yet: `syncd demo` arrives with the service (issue 5). Today you can run "
        "`syncd mappings validate` and the test suite (see README.md)."
    )
    raise typer.Exit(2)


def main() -> None:
    """Entry point of the `syncd` console script."""
    app()
