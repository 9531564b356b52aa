"""A real syncd server process (uvicorn, memory tools a, b, c) for tests that need sockets,
RSS figures and logs: `python -m tests.api.served SETTINGS.json`, or `served(...)`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


def rss_bytes(pid: int) -> int:
    """The resident set size of a process, from /proc (the kernel's own figure)."""
    return _status_bytes(pid, "VmRSS")


@dataclass
class Server:
    """A running server process."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path

    @property
    def rss(self) -> int:
        """Its resident memory now, in bytes."""
        return rss_bytes(self.process.pid)

    def reset_peak(self) -> None:
        """Start measuring the peak resident memory afresh (Linux: clear_refs 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    @property
    def peak_rss(self) -> int:
        """The most resident memory since `reset_peak` (VmHWM), in bytes."""
        return _status_bytes(self.process.pid, "VmHWM")

    def log_lines(self) -> list[dict[str, Any]]:
        """Its JSON log lines so far (other output is skipped)."""
        lines = []
        for raw in self.log.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    continue
        return lines


@contextmanager
def served(
    directory: Path, settings: dict[str, Any], *, ready: str = "/healthz"
) -> Iterator[Server]:
    """Start the server with `settings` (store_url, api, ...), wait for `ready`, stop it after."""
    from tests.factories import write_item_mappings

    port = free_port()
    mappings = write_item_mappings(directory)
    config = {"mappings_dir": str(mappings), "log_json": True, **settings}
    config["api"] = {**config.get("api", {}), "port": port, "host": "127.0.0.1"}
    path = directory / "served-settings.json"
    path.write_text(json.dumps(config))
    log = directory / "served.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.api.served", str(path)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    server = Server(process, f"http://127.0.0.1:{port}", port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(server.url + ready, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server never became ready: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(settings_file: str) -> None:
    """Build the service over memory tools and serve it, as `syncd serve` does."""
    from syncd.logs import configure_logging
    from syncd.redaction import configured_secrets
    from syncd.service import Service
    from syncd.settings import Settings
    from tests.factories import signed_tools

    settings = Settings(**json.loads(Path(settings_file).read_text()))
    configure_logging(
        settings.log_level, as_json=settings.log_json, secrets=configured_secrets(settings)
    )
    service = Service(settings, connectors=signed_tools())
    try:
        uvicorn.run(
            service.app(),
            host=settings.api.host,
            port=settings.api.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    finally:
        service.close()


if __name__ == "__main__":
    main(sys.argv[1])
