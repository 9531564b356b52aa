"""The container's install and start commands, run as the Dockerfile runs them.

No container engine runs on CI machines, so this test reads the Dockerfile's RUN/CMD lines
marked `# test: build|install|start|healthcheck`, maps the image's paths into a temporary
folder, and runs them in a fresh virtual environment: the wheel builds, installs with
its dependencies, `syncd serve` starts with the shipped mappings and answers the HEALTHCHECK.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _marked(dockerfile: str) -> dict[str, str]:
    """The instruction following each `# test: <name>` comment, continuation lines joined."""
    lines = dockerfile.replace("\\\n", " ").splitlines()
    marked = {}
    for i, line in enumerate(lines):
        match = re.match(r"#\s*test:\s*(\w+)", line.strip())
        if match:
            marked[match.group(1)] = lines[i + 1].strip()
    return marked


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dockerfile_install_and_start_commands_work(tmp_path: Path) -> None:
    steps = _marked((ROOT / "Dockerfile").read_text())
    assert set(steps) == {"build", "install", "healthcheck", "start"}
    wheels, venv, home = tmp_path / "wheels", tmp_path / "venv", tmp_path / "home"
    home.mkdir()

    def image_paths(command: str) -> str:
        command = command.removeprefix("RUN ").replace("/wheels", str(wheels))
        return command.replace("/opt/syncd", str(venv)).replace("python ", f"{sys.executable} ", 1)

    src = tmp_path / "src"  # the build stage's COPY: only what the image gets
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("syncd", "connectors", "mappings"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        ["bash", "-c", image_paths(steps["build"]).replace("pip ", f"{sys.executable} -m pip ", 1)],
        cwd=src,
        check=True,
    )
    subprocess.run(["bash", "-c", image_paths(steps["install"])], check=True, cwd=tmp_path)

    # The image carries no emulator code; the sandbox commands say how to get it.
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import syncd_sandbox"], capture_output=True
    )
    assert probe.returncode != 0 and b"No module named 'syncd_sandbox'" in probe.stderr
    demo = subprocess.run(
        [str(venv / "bin" / "syncd"), "demo"], capture_output=True, text=True, cwd=home
    )
    assert demo.returncode == 2
    assert "the sandbox is not installed" in demo.stderr and "[sandbox]" in demo.stderr

    port = _free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "SYNCD_API__HOST": "127.0.0.1",
        "SYNCD_API__PORT": str(port),
        "SYNCD_STORE_URL": f"sqlite:///{home / 'syncd.sqlite3'}",
        "SYNCD_API__ADMIN_TOKENS__OPS": "container-test-admin-token",
    }
    start = json.loads(steps["start"].removeprefix("CMD "))
    server = subprocess.Popen(
        start, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        health = steps["healthcheck"].split(" CMD ", 1)[1].replace("8080", str(port))
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(["bash", "-c", health], env=env, capture_output=True)
            if probe.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"syncd serve did not become healthy:\n{output}")
            time.sleep(0.5)
        server.send_signal(signal.SIGTERM)  # graceful shutdown
        # uvicorn re-raises the signal once it has shut down, so the status says SIGTERM.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        logs = server.stdout.read().decode() if server.stdout else ""
        assert "Application shutdown complete" in logs
        assert "container-test-admin-token" not in logs
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
    assert os.path.exists(home / "syncd.sqlite3")
