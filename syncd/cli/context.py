"""What commands share: the config path, and helpers to load settings and report errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from syncd.errors import ConfigError
from syncd.settings import Settings, load_settings

err = Console(stderr=True)


@dataclass
class CliState:
    """Global options."""

    config: Path | None = None


def settings_from(ctx: typer.Context) -> Settings:
    """Settings from `--config` (or config.toml when present) and the environment."""
    state: CliState = ctx.obj or CliState()
    path = state.config
    for candidate in (Path("config.toml"), Path("/etc/syncd/config.toml")):
        if path is None and candidate.is_file():
            path = candidate
    try:
        return load_settings(path, Path("/run/secrets"))
    except (FileNotFoundError, ValidationError) as exc:
        fail(f"configuration: {exc}")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error and exit non-zero."""
    err.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_problems(exc: ConfigError) -> None:
    """Every problem of a ConfigError, with its place."""
    for problem in exc.problems:
        style = "yellow" if problem.warning else "red"
        err.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
