"""The running service: store, mappings, connectors, engine, queue, worker, scheduler, API.

Built from settings once at start-up; everything is handed down by constructor (no globals).
`syncd serve` runs it under uvicorn; the demo and end-to-end tests run it in-process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from syncd.api.app import create_app
from syncd.api.services import Services
from syncd.connector import Connector
from syncd.engine import Engine
from syncd.jobs.store_queue import StoreJobQueue
from syncd.mapping.load import MappingSet
from syncd.mapping_versions import MappingVersions
from syncd.metrics import Metrics, RetryCounter
from syncd.registry import build_connector, read_only_paths
from syncd.rollups.runner import build_runner
from syncd.scheduler import Scheduler
from syncd.settings import Settings
from syncd.store.store import Store
from syncd.worker import ROLLUP_KINDS, SYNC_KINDS, Worker

log = logging.getLogger(__name__)


def build_connectors(settings: Settings) -> dict[str, Connector]:
    """Every connector of `[connectors.*]`, validated by its own config model."""
    return {name: build_connector(name, table) for name, table in settings.connectors.items()}


class Service:
    """syncd, assembled."""

    def __init__(
        self,
        settings: Settings,
        *,
        connectors: Mapping[str, Connector] | None = None,
        workers: int = 1,
        schedule: bool = True,
        lanes: bool = True,
    ) -> None:
        """`workers` per lane; with `lanes`, each tool's jobs have workers of their own,
        and so do the rollups (else every worker takes every job)."""
        self.settings = settings
        self.store = Store(settings.store_url)
        self.versions = MappingVersions(self.store, read_only_paths())
        mappings = self.versions.boot(settings.mappings_dir)
        self.connectors = dict(connectors) if connectors is not None else build_connectors(settings)
        self.engine = Engine(self.store, self.connectors, mappings)
        self.queue = StoreJobQueue(self.store)
        self.metrics = Metrics()
        self._retry_counter = RetryCounter(self.metrics)
        logging.getLogger("syncd.http").addHandler(self._retry_counter)
        self.services = Services(
            settings=settings,
            store=self.store,
            engine=self.engine,
            queue=self.queue,
            metrics=self.metrics,
        )
        self.scheduler = Scheduler(self.store, self.queue, list(self.connectors), settings.sync)
        self.services.extras.update(service=self, scheduler=self.scheduler, versions=self.versions)
        self.rollups = build_runner(self.store, settings.rollup, self.connectors)
        self.services.extras["rollups"] = self.rollups
        host = f"{socket.gethostname()}-{os.getpid()}"
        self.workers = self._workers(workers, lanes=lanes, host=host)
        self._schedule = schedule
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _workers(self, per_lane: int, *, lanes: bool, host: str) -> list[Worker]:
        def worker(
            name: str,
            kinds: Sequence[str] | None = None,
            connectors: Sequence[str] | None = None,
        ) -> Worker:
            return Worker(
                self.engine,
                self.queue,
                name=f"{host}-{name}",
                wake=self.services.wake_worker.subscribe(),
                rollups=self.rollups,
                metrics=self.metrics,
                kinds=kinds,
                connectors=connectors,
            )

        if not lanes:
            return [worker(str(i)) for i in range(per_lane)]
        # A lane per tool: one tool's slow moments (Google's 60 reads a minute, Jira's
        # one-by-one writes) never hold up a webhook from another. Rollups (seconds of
        # CPU) have their own, so no webhook waits behind a recompute either.
        out = [
            worker(f"{tool}-{i}", kinds=SYNC_KINDS, connectors=[tool])
            for tool in self.connectors
            for i in range(per_lane)
        ]
        if self.rollups is not None and per_lane:
            out.append(worker("rollups", kinds=ROLLUP_KINDS))
        return out

    def apply_mappings(self, mappings: MappingSet, *, by: str, note: str | None = None) -> int:
        """Store a new mapping version and use it from now on (no restart)."""
        version_id = self.versions.save(mappings, by=by, note=note)
        self.engine.set_mappings(mappings)
        log.info("mapping version %s (%s) applied by %s", version_id, mappings.version, by)
        return version_id

    def rollback_mappings(self, version_id: int) -> MappingSet:
        """Make an earlier mapping version active again."""
        mappings = self.versions.activate(version_id)
        self.engine.set_mappings(mappings)
        return mappings

    def start(self) -> None:
        """Start the workers and the scheduler in background threads."""
        self._stop.clear()
        for worker in self.workers:
            thread = threading.Thread(
                target=worker.run, args=(self._stop,), name=worker.name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if self._schedule:
            thread = threading.Thread(
                target=self.scheduler.run, args=(self._stop,), name="scheduler", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work; a worker finishes its current round (or its lease runs out)."""
        self._stop.set()
        self.services.wake_worker.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def close(self) -> None:
        """Stop and release connections."""
        self.stop()
        logging.getLogger("syncd.http").removeHandler(self._retry_counter)
        self.services.inbox.close()
        for connector in self.connectors.values():
            connector.close()
        self.store.close()

    def app(self) -> FastAPI:
        """The HTTP app; starts the background work with the server and stops it after."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            self.start()
            try:
                yield
            finally:
                self.stop()

        return create_app(self.services, lifespan=lifespan)

    def describe(self) -> dict[str, Any]:
        """A short description for start-up logs."""
        return {
            "store": "sqlite" if self.store.is_sqlite else "postgresql",
            "connectors": sorted(self.connectors),
            "mapping_version": self.engine.mappings.version,
            "workers": len(self.workers),
        }
