"""`syncd sandbox` and `syncd demo`: the bundled emulators, and syncd running against them."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncd.sandbox.dataset import DEMO, generate
from syncd.sandbox.runner import Sandbox, SandboxOptions

out = Console()


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command()(sandbox)
    app.command()(demo)


def sandbox(
    seed: Annotated[int, typer.Option(help="seed of the generated production")] = 7,
    issues: Annotated[int, typer.Option(help="Jira issues in the production")] = DEMO,
    latency_ms: Annotated[float, typer.Option(help="added to every API call")] = 0.0,
    port: Annotated[int, typer.Option(help="first port (Jira; Sheets +1, ShotGrid +2)")] = 0,
    webhooks_to: Annotated[
        str | None, typer.Option(help="syncd base URL to send webhooks to")
    ] = None,
) -> None:
    """Serve local Jira, Google Sheets and ShotGrid emulators until Ctrl-C."""
    ports = {"jira": port, "sheets": port + 1, "shotgrid": port + 2} if port else {}
    production = generate(seed=seed, issues=issues)
    box = Sandbox(
        production, SandboxOptions(latency_ms=latency_ms, ports=ports, webhook_base=webhooks_to)
    )
    box.start()
    table = Table("tool", "URL", "credentials", title=f"sandbox: {production.name}")
    for tool, creds in box.credentials().items():
        url = creds.pop("url")
        table.add_row(tool, url, ", ".join(f"{k}={v}" for k, v in creds.items()))
    out.print(table)
    out.print(
        "control API: <url>/_sandbox/... (knobs, calls, webhook, person edits); "
        "OpenAPI at <url>/docs. Ctrl-C stops."
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        box.stop()


def demo(
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="keep serving after the tour")
    ] = False,
) -> None:
    """Run syncd against the sandbox: first sync, edits in each tool, conflicts, the sheet."""
    from syncd.demo import run_demo

    raise typer.Exit(run_demo(out, keep_running=keep_running))
