"""The Typer app and the options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from syncd import __version__
from syncd.cli import conflicts, extras, mappings, run
from syncd.cli.context import CliState

app = typer.Typer(
    help="syncd: keep Jira, Google Sheets and ShotGrid in step.", no_args_is_help=True
)
app.add_typer(mappings.app, name="mappings")
app.add_typer(conflicts.app, name="conflicts")
run.register(app)
extras.register(app)


@app.callback()
def options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar="SYNCD_CONFIG", help="config TOML file"),
    ] = None,
) -> None:
    """syncd: keep Jira, Google Sheets and ShotGrid in step."""
    ctx.obj = CliState(config=config)


@app.command()
def version() -> None:
    """Print syncd's version."""
    Console().print(__version__)
