"""`syncd sandbox --write-config`: a running sandbox and a config any syncd command can use.

Real processes, as a person (or a script) runs them: the sandbox in one, then `syncd doctor`
and `syncd sync --once` in others, reading only the written file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from syncd.settings import load_settings

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

SYNCD = str(Path(sys.executable).parent / "syncd")


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or "admin_tokens" not in path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            out = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the sandbox wrote no config:\n{out}")
        time.sleep(0.2)


def test_write_config_gives_a_config_that_every_command_can_use(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "syncd.toml"
    sandbox = subprocess.Popen(
        [SYNCD, "sandbox", "--issues", "60", "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        _wait_for(config, sandbox)
        written = tomllib.loads(config.read_text())
        assert set(written["connectors"]) == {"jira", "sheets", "shotgrid"}
        for table in written["connectors"].values():
            assert table["webhook_secret"]
        # The store and the service-account key live beside the config, not in the cwd.
        assert written["store_url"] == f"sqlite:///{config.parent.resolve()}/syncd-sandbox.sqlite3"
        key_file = Path(written["connectors"]["sheets"]["service_account_file"])
        assert key_file.parent == config.parent.resolve() and key_file.is_file()
        assert written["api"]["public_url"] == "http://127.0.0.1:8080"
        settings = load_settings(config)  # the service's own validation accepts it
        assert settings.api.admin_tokens

        # Each emulator answers at the URL written for it.
        jira = written["connectors"]["jira"]
        reply = httpx.get(
            f"{jira['base_url']}/rest/api/3/myself", auth=(jira["email"], jira["api_token"])
        )
        assert reply.status_code == 200

        env = {**os.environ, "SYNCD_CONFIG": str(config)}
        doctor = subprocess.run(
            [SYNCD, "doctor"], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        for tool in ("jira", "shotgrid", "sheets"):
            assert tool in doctor.stdout
        assert "fail" not in doctor.stdout.lower()

        sync = subprocess.run(
            [SYNCD, "--config", str(config), "sync", "--once"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert sync.returncode == 0, sync.stdout + sync.stderr
        assert "sync done" in sync.stdout
        assert (config.parent / "syncd-sandbox.sqlite3").is_file()
        assert not (tmp_path / "var").exists()  # nothing fell back to the default store path
    finally:
        sandbox.send_signal(signal.SIGINT)
        try:
            sandbox.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
        if sandbox.stdout:
            sandbox.stdout.close()


def test_too_few_issues_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [SYNCD, "sandbox", "--issues", "3"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "--issues" in result.stderr and "Traceback" not in result.stderr
