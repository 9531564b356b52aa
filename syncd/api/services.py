"""What the routes work with, built once at start-up and injected (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from syncd.connector import Connector
from syncd.engine import Engine
from syncd.inbox import InboxWriter
from syncd.jobs.port import JobQueue
from syncd.metrics import Metrics
from syncd.settings import Settings
from syncd.store.store import Store
from syncd.wake import WakeAll


@dataclass
class Services:
    """The running service's parts."""

    settings: Settings
    store: Store
    engine: Engine
    queue: JobQueue
    metrics: Metrics = field(default_factory=Metrics)
    wake_worker: WakeAll = field(default_factory=WakeAll)
    extras: dict[str, Any] = field(default_factory=dict)
    inbox: InboxWriter = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = InboxWriter(self.store, self.queue, on_stored=self.wake_worker.set)

    @property
    def connectors(self) -> dict[str, Connector]:
        """Configured connectors by name."""
        return self.engine.connectors


async def get_services(request: Request) -> Services:
    """The services of the app serving this request.

    Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
    per request that cost the webhook path ~10 % of its CPU.
    """
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
