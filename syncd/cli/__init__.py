"""The `syncd` command line: one Typer app, a module per group of commands."""

from __future__ import annotations

from syncd.cli.app import app
from syncd.runtime import tune_runtime


def main() -> None:
    """Entry point of the `syncd` console script."""
    tune_runtime()
    app()


__all__ = ["app", "main"]
