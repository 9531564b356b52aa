"""A PostgreSQL cluster of the test's own (initdb, pg_ctl, a free port), to stop and start
at will: an outage of the shared server would hit every other test running on the machine."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.api.served import free_port


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PrivateCluster:
    """A running cluster; `stop()` is an outage (immediate shutdown), `start()` its end."""

    bin_dir: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        """The store URL of its `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        """Start (again), listening on loopback only."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or a network cut would (connections are dropped)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")


def available() -> bool:
    """initdb and pg_ctl are installed (and, as root, a `postgres` user to run them)."""
    if _bin_dir() is None:
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
    return True


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A fresh cluster in a temporary folder, removed afterwards."""
    bin_dir = _bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="syncd-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivateCluster(bin_dir, data, free_port(), as_user)
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
