"""A real `syncd serve` process over the sandbox: its config, starting, killing, waiting."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from syncd.settings import default_mappings_dir
from syncd_sandbox.runner import Sandbox
from syncd_sandbox.signing import sign_jira, sign_shotgrid

ADMIN_TOKEN = "rel-admin-3c9e1f7a5b2d4c6e8f0a1b3c5d7e9f1a"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_value(value: Any) -> str:
    """A TOML literal for a string, bool, number, list or inline table."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + " }"
    return str(value)


def write_config(
    folder: Path, box: Sandbox, port: int, store_url: str, *, log_level: str = "WARNING"
) -> Path:
    """A config for a service on `port` whose connectors talk to `box`."""
    lines = [
        f"store_url = {toml_value(store_url)}",
        f"mappings_dir = {toml_value(str(default_mappings_dir()))}",
        f"log_level = {toml_value(log_level)}",
        "[sync]",
        "poll_interval_seconds = 10",
        "[api]",
        f"port = {port}",
        f"admin_tokens = {toml_value({'ops': ADMIN_TOKEN})}",
    ]
    for name, table in box.connector_tables(folder).items():
        lines.append(f"[connectors.{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Served:
    """One `syncd serve` at a time, restarted on demand; output appended to `log`."""

    config: Path
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    starts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The service's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process (it serves once `wait_ready` returns)."""
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "syncd", "--config", str(self.config), "serve"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts.append(time.monotonic())

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_ready(self, timeout: float = 90) -> None:
        """Until /readyz answers 200."""
        wait_until(lambda: httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200,
                   timeout, "readiness")  # fmt: skip


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` (errors count as not yet) until it holds, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def signed_delivery(box: Sandbox, n: int, nonce: str) -> tuple[str, dict[str, str], bytes]:
    """A signed delivery naming a real record, carrying `nonce`; Jira and ShotGrid in turn."""
    production, secrets = box.production, box.options.secrets
    now_ms = int(time.time() * 1000)
    if n % 2:
        issue = production.jira_issues[n % len(production.jira_issues)]
        payload: dict[str, Any] = {
            "timestamp": now_ms,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "rel-person"},
            "issue": {"id": str(10_000 + n), "key": issue.key, "fields": {"summary": nonce}},
            "changelog": {"id": str(n), "items": [{"field": "summary", "toString": nonce}]},
        }
        body = json.dumps(payload).encode()
        return (
            "jira",
            {"content-type": "application/json", **sign_jira(body, secrets["jira"])},
            body,
        )
    task = production.sg_tasks[n % len(production.sg_tasks)]
    payload = {
        "data": {
            "id": n, "event_log_entry_id": n, "event_type": "Shotgun_Task_Change",
            "operation": "update", "delivery_id": nonce, "attribute_name": "content",
            "entity": {"type": "Task", "id": task.id},
            "project": {"type": "Project", "id": production.sg_project_id},
            "user": {"type": "HumanUser", "id": 1}, "meta": {"new_value": nonce},
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime()),
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", **sign_shotgrid(body, secrets["shotgrid"])}
    return "shotgrid", headers, body
