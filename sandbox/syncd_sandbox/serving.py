"""Serve an ASGI app on loopback in a background thread (sandbox, tests, benchmarks)."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.types import ASGIApp


class ServedApp:
    """An app served by uvicorn on 127.0.0.1 in a daemon thread; `url` is its base URL."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread

    @classmethod
    def start(
        cls, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0
    ) -> ServedApp:
        """Start serving; port 0 picks a free port. Returns once the socket is listening."""
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"serve-{host}:{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"could not start a server on {host}:{port}")
            time.sleep(0.01)
        return cls(server, thread)

    @property
    def port(self) -> int:
        """The port actually bound."""
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
