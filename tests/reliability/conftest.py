"""Fixtures of the reliability suite: where figures go, a canary listener on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.reliability.figures import Figures


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Figures:
    """The session's figures file (its path is printed with each figure's file)."""
    return Figures(tmp_path_factory.getbasetemp() / "reliability.json")


@dataclass
class Canary:
    """A TCP listener on loopback that counts every connection made to it."""

    port: int
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def canary() -> Iterator[Canary]:
    """Listens on 127.0.0.1 (and ::1 on the same port when the machine has IPv6)."""
    listeners = [socket.create_server(("127.0.0.1", 0))]
    port = listeners[0].getsockname()[1]
    with contextlib.suppress(OSError):  # no IPv6 loopback: the [::1] cases still run
        listeners.append(socket.create_server(("::1", port), family=socket.AF_INET6))
    found = Canary(port)
    stop = threading.Event()

    def serve(listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            found.hits.append(str(peer))
            conn.close()

    threads = [threading.Thread(target=serve, args=(ls,), daemon=True) for ls in listeners]
    for thread in threads:
        thread.start()
    yield found
    stop.set()
    for thread in threads:
        thread.join()
    for listener in listeners:
        listener.close()
