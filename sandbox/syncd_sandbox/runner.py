"""The three emulators together: seeded from one production, served on loopback.

`syncd sandbox` runs this on its own; `syncd demo`, the end-to-end tests and the benchmarks
run it next to the service, with each emulator's webhooks pointed at the service.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI

from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.knobs import CallLog, Knobs
from syncd_sandbox.production import Production
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.sheets import SheetsSandbox
from syncd_sandbox.shotgrid import ShotGridSandbox
from syncd_sandbox.webhooks import WebhookConfig, WebhookSender

TOOLS = ("jira", "sheets", "shotgrid")


class Emulator(Protocol):
    """What every emulator offers (see the `XxxSandbox` classes)."""

    @property
    def webhooks(self) -> WebhookSender: ...

    @property
    def calls(self) -> CallLog: ...

    def seed(self, production: Production) -> None: ...
    def create_app(self) -> FastAPI: ...
    def close(self) -> None: ...


SG_SCRIPT, SG_KEY = "syncd", "sandbox-sg-key"
# Jira and ShotGrid take any text; a Standard Webhooks secret is whsec_ + base64 of its key.
DEFAULT_SECRETS = {
    "jira": "sandbox-jira-webhook-secret",
    "shotgrid": "sandbox-shotgrid-webhook-secret",
    "sheets": "whsec_" + base64.b64encode(b"sandbox-sheets-webhook-secret-key").decode(),
}


@dataclass
class SandboxOptions:
    """How to run the sandbox."""

    latency_ms: float = 0.0  # added to every API call, to feel like the real services
    jitter_ms: float = 0.0
    webhook_base: str | None = None  # syncd's base URL; deliveries go to /webhooks/<tool>
    secrets: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SECRETS))
    ports: dict[str, int] = field(default_factory=dict)  # 0 or missing: any free port
    knobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # per tool, extra knobs


class Sandbox:
    """Jira, Google Sheets and ShotGrid emulators, seeded and served."""

    def __init__(self, production: Production, options: SandboxOptions | None = None) -> None:
        self.production = production
        self.options = options or SandboxOptions()
        o = self.options

        def knobs(tool: str) -> Knobs:
            return Knobs(latency_ms=o.latency_ms, jitter_ms=o.jitter_ms, **o.knobs.get(tool, {}))

        def webhook(tool: str) -> WebhookConfig:
            url = f"{o.webhook_base.rstrip('/')}/webhooks/{tool}" if o.webhook_base else None
            return WebhookConfig(url=url, secret=o.secrets.get(tool))

        self.jira = JiraSandbox(knobs=knobs("jira"), webhook=webhook("jira"))
        self.sheets = SheetsSandbox(knobs=knobs("sheets"), webhook=webhook("sheets"))
        self.shotgrid = ShotGridSandbox(knobs=knobs("shotgrid"), webhook=webhook("shotgrid"))
        for emulator in (self.jira, self.sheets, self.shotgrid):
            emulator.seed(production)
        self._served: dict[str, ServedApp] = {}

    @property
    def emulators(self) -> dict[str, Emulator]:
        """The three, by tool name."""
        return {"jira": self.jira, "sheets": self.sheets, "shotgrid": self.shotgrid}

    def start(self) -> None:
        """Serve the three on 127.0.0.1."""
        for tool, emulator in self.emulators.items():
            self._served[tool] = ServedApp.start(
                emulator.create_app(), port=self.options.ports.get(tool, 0)
            )

    def url(self, tool: str) -> str:
        """Base URL of a served emulator."""
        return self._served[tool].url

    def point_webhooks_at(self, base_url: str) -> None:
        """Send every emulator's webhooks to a syncd at `base_url` from now on."""
        for tool, emulator in (
            ("jira", self.jira),
            ("sheets", self.sheets),
            ("shotgrid", self.shotgrid),
        ):
            emulator.webhooks.config = WebhookConfig(
                url=f"{base_url.rstrip('/')}/webhooks/{tool}",
                secret=self.options.secrets.get(tool),
            )

    def connector_tables(self, workdir: Path) -> dict[str, dict[str, Any]]:
        """`[connectors.*]` tables for a syncd that talks to this sandbox.

        The Google service-account key file is written into `workdir` (it holds a key).
        """
        key_file = self.sheets.write_service_account_file(
            workdir / "sandbox-service-account.json", token_uri=f"{self.url('sheets')}/token"
        )
        p = self.production
        return {
            "jira": {
                "kind": "jira",
                "base_url": self.url("jira"),
                "email": DEFAULT_EMAIL,
                "api_token": DEFAULT_API_TOKEN,
                "projects": [p.jira_project_key],
                "webhook_secret": self.options.secrets["jira"],
                "allow_private_addresses": True,  # the emulator listens on loopback
            },
            "shotgrid": {
                "kind": "shotgrid",
                "base_url": self.url("shotgrid"),
                "script_name": SG_SCRIPT,
                "script_key": SG_KEY,
                "project_id": p.sg_project_id,
                "webhook_secret": self.options.secrets["shotgrid"],
                "allow_private_addresses": True,  # the emulator listens on loopback
            },
            "sheets": {
                "kind": "sheets",
                "spreadsheet_id": p.spreadsheet_id,
                "service_account_file": str(key_file),
                "api_base_url": self.url("sheets"),
                "webhook_secret": self.options.secrets["sheets"],
            },
        }

    def credentials(self) -> dict[str, dict[str, str]]:
        """What a person needs to poke at each emulator by hand."""
        return {
            "jira": {
                "url": self.url("jira"),
                "email": DEFAULT_EMAIL,
                "api_token": DEFAULT_API_TOKEN,
                "account_id": DEFAULT_ACCOUNT_ID,
                "project": self.production.jira_project_key,
            },
            "shotgrid": {
                "url": self.url("shotgrid"),
                "script_name": SG_SCRIPT,
                "script_key": SG_KEY,
                "project_id": str(self.production.sg_project_id),
            },
            "sheets": {
                "url": self.url("sheets"),
                "spreadsheet_id": self.production.spreadsheet_id,
                "service_account": self.sheets.service_account_info()["client_email"],
            },
        }

    def calls(self) -> dict[str, dict[str, int]]:
        """API calls each emulator counted, per endpoint."""
        return {
            "jira": self.jira.calls.snapshot(),
            "sheets": self.sheets.calls.snapshot(),
            "shotgrid": self.shotgrid.calls.snapshot(),
        }

    def stop(self) -> None:
        """Stop serving and close the webhook senders."""
        for served in self._served.values():
            served.stop()
        self._served.clear()
        for emulator in self.emulators.values():
            emulator.close()
