"""`syncd sandbox` and `syncd demo`: the bundled emulators, and syncd running against them.

syncd's CLI finds this app through the `syncd.sandbox` entry point only when the command is
run, so the service and its other commands never import a line of the sandbox.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Annotated, Any

import tomli_w
import typer
from rich.console import Console
from rich.table import Table

from syncd_sandbox.dataset import DEMO, generate
from syncd_sandbox.dataset.generator import MIN_ISSUES
from syncd_sandbox.runner import Sandbox, SandboxOptions

out = Console()
app = typer.Typer(help="The sandbox: local emulators of Jira, Google Sheets and ShotGrid.")

DEFAULT_SYNCD_URL = "http://127.0.0.1:8080"


@app.command()
def sandbox(
    seed: Annotated[int, typer.Option(help="seed of the generated production")] = 7,
    issues: Annotated[
        int, typer.Option(help="Jira issues in the production", min=MIN_ISSUES)
    ] = DEMO,
    latency_ms: Annotated[float, typer.Option(help="added to every API call")] = 0.0,
    port: Annotated[int, typer.Option(help="first port (Jira; Sheets +1, ShotGrid +2)")] = 0,
    webhooks_to: Annotated[
        str | None,
        typer.Option(
            help="syncd base URL to send webhooks to "
            f"(with --write-config: {DEFAULT_SYNCD_URL} unless given)"
        ),
    ] = None,
    write_config: Annotated[
        Path | None,
        typer.Option(
            "--write-config",
            help="write a complete syncd config for these emulators to this TOML file "
            "(the store and the service-account key go beside it)",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Serve local Jira, Google Sheets and ShotGrid emulators until Ctrl-C."""
    ports = {"jira": port, "sheets": port + 1, "shotgrid": port + 2} if port else {}
    if write_config is not None and webhooks_to is None:
        webhooks_to = DEFAULT_SYNCD_URL
    production = generate(seed=seed, issues=issues)
    box = Sandbox(
        production, SandboxOptions(latency_ms=latency_ms, ports=ports, webhook_base=webhooks_to)
    )
    box.start()
    try:
        table = Table("tool", "URL", "credentials", title=f"sandbox: {production.name}")
        for tool, creds in box.credentials().items():
            url = creds.pop("url")
            table.add_row(tool, url, ", ".join(f"{k}={v}" for k, v in creds.items()))
        out.print(table)
        if webhooks_to:
            out.print(f"webhooks go to {webhooks_to}/webhooks/<tool>")
        if write_config is not None:
            admin_token = write_syncd_config(box, write_config, syncd_url=webhooks_to)
            out.print(
                f"wrote {write_config}: run `syncd --config {write_config} serve` "
                f"(or sync, doctor, ...); admin token: {admin_token}"
            )
        out.print(
            "control API: <url>/_sandbox/... (knobs, calls, webhook, person edits); "
            "OpenAPI at <url>/docs. Ctrl-C stops."
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        box.stop()


def syncd_config(box: Sandbox, folder: Path, *, syncd_url: str | None) -> dict[str, Any]:
    """A complete syncd config for the running emulators; the key file is written to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "store_url": f"sqlite:///{(folder / 'syncd-sandbox.sqlite3').resolve()}",
        "log_json": False,
        "connectors": box.connector_tables(folder.resolve()),
        # A throw-away local service: the token is written in clear on purpose.
        "api": {"admin_tokens": {"sandbox": f"sandbox-{secrets.token_urlsafe(12)}"}},
    }
    if syncd_url is not None:
        host, _, port = syncd_url.removeprefix("http://").partition(":")
        config["api"].update(host=host, port=int(port or 80), public_url=syncd_url)
    return config


def write_syncd_config(box: Sandbox, path: Path, *, syncd_url: str | None) -> str:
    """Write `syncd_config` to `path` as TOML; return the admin token it holds."""
    config = syncd_config(box, path.parent, syncd_url=syncd_url)
    path.write_text(
        "# syncd config for a running `syncd sandbox` (written by --write-config).\n"
        + tomli_w.dumps(config)
    )
    return str(config["api"]["admin_tokens"]["sandbox"])


@app.command()
def demo(
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="keep serving after the tour")
    ] = False,
) -> None:
    """Run syncd against the sandbox: first sync, edits in each tool, conflicts, the sheet."""
    from syncd_sandbox.demo import run_demo

    raise typer.Exit(run_demo(out, keep_running=keep_running))
