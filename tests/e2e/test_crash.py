"""Kill the service (SIGKILL) in the middle of a burst of deliveries, start it again:
every delivery is applied, and applied once.

A real `syncd serve` process, the sandbox in this process. ShotGrid's webhook sender is
set to retry (deliveries sent while the service is down are delivered after it is back;
the periodic poll is the other safety net).
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncd.settings import default_mappings_dir
from syncd_sandbox.dataset import generate
from syncd_sandbox.jira import DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_EMAIL
from syncd_sandbox.runner import Sandbox
from syncd_sandbox.stack import linked_pairs
from syncd_sandbox.webhooks import WebhookConfig

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

BURST = 12
KILL_AFTER = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _config(tmp: Path, box: Sandbox, port: int) -> Path:
    store = tmp / "syncd.sqlite3"
    lines = [
        f"store_url = {_toml(f'sqlite:///{store}')}",
        f"mappings_dir = {_toml(str(default_mappings_dir()))}",
        'log_level = "WARNING"',
        "[sync]",
        "poll_interval_seconds = 10",
        "[api]",
        f"port = {port}",
    ]
    for name, table in box.connector_tables(tmp).items():
        lines.append(f"[connectors.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    tomllib.loads(path.read_text())  # a broken file would fail far from here
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "syncd", "--config", str(config), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, sqlite3.Error):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def box() -> Iterator[Sandbox]:
    box = Sandbox(generate(seed=13, issues=300))
    box.start()
    yield box
    box.stop()


def test_sigkill_mid_burst_applies_every_delivery_once(box: Sandbox, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    config, log = _config(tmp_path, box, port), tmp_path / "service.log"
    box.point_webhooks_at(url)
    sender = box.shotgrid.webhooks
    sender.config = WebhookConfig(
        url=f"{url}/webhooks/shotgrid",
        secret=box.options.secrets["shotgrid"],
        max_attempts=40,
        backoff_seconds=0.25,
        timeout_seconds=5,
    )
    db = tmp_path / "syncd.sqlite3"

    def initial_sync_done() -> bool:
        with sqlite3.connect(db) as conn:
            links = conn.execute("select count(*) from links where connector='jira'").fetchone()
            busy = conn.execute(
                "select count(*) from jobs where status in ('todo','doing') and kind='poll'"
            ).fetchone()
        return bool(links[0] > 100 and busy[0] == 0)

    service = _start(config, log)
    try:
        _wait(lambda: httpx.get(f"{url}/readyz").status_code == 200, 60, "readiness")
        _wait(initial_sync_done, 120, "the first poll of every tool")
        pairs = [
            (task_id, key)
            for status in ("wtg", "rdy", "ip")  # work not done yet: Jira can move it to review
            for key, task_id in linked_pairs(box.production, sg_status=status)
        ][:BURST]
        assert len(pairs) == BURST
        artist = box.production.people[1].email
        for n, (task_id, _) in enumerate(pairs):
            box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "rev"})
            if n == KILL_AFTER:
                service.send_signal(signal.SIGKILL)  # no shutdown of any kind
                service.wait()
        time.sleep(1.0)
        service = _start(config, log)
        _wait(lambda: httpx.get(f"{url}/readyz").status_code == 200, 60, "restart")

        def all_in_review() -> bool:
            return all(
                box.jira.issue(key)["fields"]["status"]["name"] == "In Review" for _, key in pairs
            )

        _wait(all_in_review, 120, "every edit to reach Jira")
        auth = (DEFAULT_EMAIL, DEFAULT_API_TOKEN)
        for _, key in pairs:
            changelog = httpx.get(
                f"{box.url('jira')}/rest/api/3/issue/{key}/changelog", auth=auth
            ).json()["values"]
            moves = [
                h
                for h in changelog
                if h["author"]["accountId"] == DEFAULT_ACCOUNT_ID
                and any(item["field"] == "status" for item in h["items"])
            ]
            assert len(moves) == 1, f"{key} was moved {len(moves)} times by syncd"
        with sqlite3.connect(db) as conn:
            stored = conn.execute(
                "select count(distinct delivery_id), count(*) from inbox where connector='shotgrid'"
            ).fetchone()
        assert stored[0] == stored[1]  # no delivery stored twice
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
