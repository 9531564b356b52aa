"""`syncd sandbox` and `syncd demo`: commands of the separately installed sandbox package.

The sandbox (package `syncd_sandbox`, installed by `pip install 'syncd[sandbox]'`) registers
its Typer app under the `syncd.sandbox` entry point. It is looked up only when one of these
commands runs, so no other command, and no production install, loads any of it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import typer

ENTRY_POINT_GROUP = "syncd.sandbox"
INSTALL_HINT = (
    "the sandbox is not installed: from a checkout run "
    "`pip install -e '.[sandbox]'` (or `pip install 'syncd[sandbox]'`)"
)

COMMANDS = {
    "sandbox": "Serve local Jira, Google Sheets and ShotGrid emulators until Ctrl-C "
    "(`syncd sandbox --help` for options).",
    "demo": "Run syncd against the sandbox: first sync, edits in each tool, conflicts, the sheet.",
}


def register(app: typer.Typer) -> None:
    """Add `sandbox` and `demo`; their options are the sandbox app's own (passed through)."""
    for name, summary in COMMANDS.items():
        app.command(
            name=name,
            help=summary,
            add_help_option=False,  # --help goes to the sandbox's command
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_forwarding(name))


def _forwarding(name: str) -> Any:
    def command(ctx: typer.Context) -> None:
        sandbox_app = _load_sandbox_app()
        click_command = typer.main.get_command(sandbox_app)
        click_command.main(args=[name, *ctx.args], prog_name="syncd")

    command.__name__ = name
    return command


def _load_sandbox_app() -> typer.Typer:
    found = entry_points(group=ENTRY_POINT_GROUP, name="cli")
    if not found:
        typer.echo(f"syncd: {INSTALL_HINT}", err=True)
        raise typer.Exit(2)
    (entry,) = tuple(found)
    try:
        loaded = entry.load()
    except ImportError as exc:
        typer.echo(f"syncd: the sandbox failed to load ({exc}); {INSTALL_HINT}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(loaded, typer.Typer):
        typer.echo(f"syncd: entry point {entry.value} is not a Typer app", err=True)
        raise typer.Exit(2)
    return loaded
