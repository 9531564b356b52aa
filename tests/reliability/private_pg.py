"""A private PostgreSQL cluster for outage tests: its own folder and port, stopped at will.

The shared server on 5432 is never touched. PostgreSQL refuses to run as root, so when the
tests run as root the cluster runs as the `postgres` user (runuser).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"no {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


@dataclass
class PrivateCluster:
    """initdb'd into a temporary folder; `stop()` is an immediate shutdown (a crash)."""

    folder: Path
    port: int

    @classmethod
    def create(cls, port: int) -> PrivateCluster:
        """A new cluster (trust auth, user postgres), started, with database `syncd`."""
        folder = Path(tempfile.mkdtemp(prefix="syncd-pg-"))
        cluster = cls(folder, port)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
        cluster._run(_bin("initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
        cluster.start()
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE syncd")
        return cluster

    @property
    def admin_url(self) -> str:
        """libpq URL of the `postgres` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def syncd_url(self) -> str:
        """libpq URL of the `syncd` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/syncd"

    @property
    def store_url(self) -> str:
        """SQLAlchemy URL of the `syncd` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/syncd"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        log = str(self.folder / "server.log")
        self._run(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-o", options, "-l", log,
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        """An immediate shutdown: connections cut, no checkpoint (as a crash)."""
        self._run(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w",
                  "stop")  # fmt: skip

    def destroy(self) -> None:
        """Stop if running, and delete the folder."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
