"""What the admin API tests share: tokens, a service over memory tools, a recording client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from connectors.memory import MemoryConnector
from syncd.api.app import create_app
from syncd.service import Service
from syncd.store.conflicts import ConflictRow
from tests.factories import (
    World,
    make_service,
    service_world,
    signed_tools,
    sqlite_copy,
    write_item_mappings,
)

ADMIN_TOKEN = "adm-7f3c1e9a5b2d4c6e8f0a1b3c5d7e9f1a"
VIEWER_TOKEN = "vw-2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e1b"
CONNECTOR_SECRET = "cx-api-token-5e6f7a8b9c0d1e2f"
SECRETS = (ADMIN_TOKEN, VIEWER_TOKEN, CONNECTOR_SECRET)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
WRONG = {"Authorization": "Bearer not-a-configured-token-0000000000"}

API = "/admin/v1"
RECORD_LINK = "https://tool-a.example/{entity}/{external_id}"


@dataclass
class Seen:
    """Every response the admin tests received: status, headers and body."""

    responses: list[tuple[str, int, str, str]] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        """httpx response hook: keep the response."""
        response.read()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.responses.append((str(response.url), response.status_code, headers, response.text))

    def leaks(self) -> list[str]:
        """Responses that contain a configured secret."""
        return [
            f"{status} {url}"
            for url, status, headers, body in self.responses
            if any(secret in headers or secret in body for secret in SECRETS)
        ]


@dataclass
class Kit:
    """A service over tools a, b, c (items linked by `a_id`), its app and a client."""

    service: Service
    world: World
    client: TestClient

    def run_worker(self) -> int:
        """One round of the worker (push, poll, refresh jobs)."""
        return self.service.workers[0].run_once()

    def record_of(self, connector: str, external_id: str) -> str:
        """The record id a tool's item belongs to."""
        with self.service.store.transaction() as tx:
            links = tx.links.find([(connector, "item", external_id)])
        return links[(connector, "item", external_id)].record_id

    def conflicts(self, status: str | None = "open") -> list[ConflictRow]:
        """Conflicts as the store lists them."""
        with self.service.store.transaction() as tx:
            return tx.conflicts.find(status=status)

    def open_conflict(self) -> ConflictRow:
        """a and b change item 1's status differently: a manual field, so a conflict."""
        self.world.put("a", 1, status="done")
        self.world.put("b", 1, status="doing")
        # One tool after the other: tools are read in parallel, and which edit reaches
        # the record first decides which side the record holds while the conflict is open.
        for name in ("a", "b", "c"):
            self.world.engine.sync(only=[name], push=False)
        [conflict] = self.conflicts()
        return conflict

    def status_everywhere(self) -> set[str]:
        """Item 1's status in every tool."""
        return {self.world.tools[s].get("item", f"{s}1")["status"] for s in "abc"}


@contextmanager
def build_kit(
    directory: Path,
    seen: Seen,
    *,
    tools: dict[str, MemoryConnector] | None = None,
    store_url: str | None = None,
    **settings: Any,
) -> Iterator[Kit]:
    """A seeded service (item 1 in a, b and c, synced) with the admin and viewer tokens."""
    settings.setdefault(
        "api", {"admin_tokens": {"mia": ADMIN_TOKEN}, "viewer_tokens": {"dash": VIEWER_TOKEN}}
    )
    # These tests call the admin API faster than a person would: no rate limit unless asked.
    settings["api"] = {"admin_rate_limit": "", **settings["api"]}
    settings.setdefault("connectors", {"a": {"kind": "memory", "api_token": CONNECTOR_SECRET}})
    settings.setdefault("rollup", {"record_links": {"a": RECORD_LINK}})
    write_item_mappings(directory)
    tools = tools or signed_tools()
    # Relative names, as in a real install: the files are "mappings/a.toml" and so on.
    url = store_url or sqlite_copy(directory)
    service = make_service(url, Path("mappings"), tools, **settings)
    world = service_world(service, tools)
    for source in ("a", "b", "c"):
        world.put(source, 1, title="Rig hero", status="open")
    world.engine.sync()
    client = TestClient(create_app(service.services))
    client.event_hooks["response"].append(seen.hook)
    try:
        yield Kit(service, world, client)
    finally:
        client.close()
        service.close()
