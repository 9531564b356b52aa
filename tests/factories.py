"""Test factories: three in-memory tools with one mapping each, and an engine over them."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from connectors.memory import MemoryConfig, MemoryConnector, TickingClock
from syncd.connector import Capability, WebhookEvent
from syncd.engine import Engine
from syncd.mapping.load import MappingSet, MappingSource
from syncd.service import Service
from syncd.settings import Settings
from syncd.signatures import verify_jira
from syncd.store.store import Store
from syncd_sandbox.signing import sign_jira

ITEM_MAPPING = """
connector = "{name}"

[entities.item]
kind = "task"
key = "id"
updated_at = "updated_at"
{link}

[entities.item.fields.title]
path = "title"
policy = "latest_wins"

[entities.item.fields.status]
path = "status"
policy = "manual"
values = "st"

[entities.item.fields.milestone]
path = "milestone"
policy = "owner_wins"
owner = {owner}

[entities.item.fields.labels]
path = "labels"
policy = "latest_wins"
transform = "labels"

[entities.item.fields.assignee]
path = "who"
policy = "latest_wins"
transform = "person"

[values.st.map]
open = "todo"
doing = "in_progress"
done = "done"
"""

LINK = """
[[entities.item.links]]
path = "a_id"
connector = "a"
entity = "item"
"""

SOURCES = ("a", "b", "c")
SYNCED_FIELDS = ("title", "status", "milestone", "labels", "assignee")


def item_mappings() -> MappingSet:
    """Mappings for tools a, b, c: b and c link their items to a's by `a_id`."""
    return MappingSet(
        [
            MappingSource(
                f"{name}.toml",
                ITEM_MAPPING.format(
                    name=name, link="" if name == "a" else LINK, owner=str(name == "a").lower()
                ),
            )
            for name in SOURCES
        ]
    )


@cache
def _template_db() -> Path:
    """A migrated SQLite file, copied per test: migrations run once per session."""
    path = Path(tempfile.mkdtemp()) / "template.sqlite3"
    Store(f"sqlite:///{path}").close()
    return path


def sqlite_copy(directory: Path) -> str:
    """A fresh, migrated SQLite store URL in `directory`."""
    target = directory / "syncd.sqlite3"
    shutil.copy(_template_db(), target)
    return f"sqlite:///{target}"


@dataclass
class World:
    """Three tools, a store and an engine."""

    tools: dict[str, MemoryConnector]
    store: Store
    engine: Engine

    def put(self, source: str, item: int, **fields: Any) -> None:
        """A person edits an item in one tool."""
        data: dict[str, Any] = {"id": f"{source}{item}", **fields}
        if source != "a":
            data["a_id"] = f"a{item}"
        self.tools[source].put("item", data)


def make_world(store_url: str, *, migrate: bool = True) -> World:
    """Three memory tools (a owns the milestone), people known to each, an engine."""
    clock = TickingClock()  # one clock for all tools, so "latest" means something
    tools = {
        name: MemoryConnector(
            name=name,
            config=MemoryConfig(page_size=3),
            clock=clock,
            users={f"{name}-u1": "zoe@studio.example", f"{name}-u2": "lukasz@studio.example"},
        )
        for name in SOURCES
    }
    store = Store(store_url, migrate=migrate)
    return World(tools, store, Engine(store, tools, item_mappings()))


WEBHOOK_SECRET = "s3cret-for-tests"


class SignedMemoryConnector(MemoryConnector):
    """A memory tool that also sends signed webhooks (Jira's scheme) for the API tests."""

    capabilities = MemoryConnector.capabilities | {Capability.WEBHOOK}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        verify_jira(headers, body, WEBHOOK_SECRET)
        payload = json.loads(body)
        if not isinstance(payload, dict) or "id" not in payload:
            raise ValueError("delivery has no 'id'")
        return [
            WebhookEvent(
                delivery_id=str(payload["delivery"]),
                entity=payload.get("entity", "item"),
                external_id=str(payload["id"]),
                author=payload.get("author"),
            )
        ]


def signed_delivery(
    external_id: str, delivery: str, author: str | None = "person"
) -> tuple[dict[str, str], bytes]:
    """A webhook body and headers as a signed memory tool would send them."""
    body = json.dumps({"id": external_id, "delivery": delivery, "author": author}).encode()
    return {"content-type": "application/json", **sign_jira(body, WEBHOOK_SECRET)}, body


def make_signed_world(store_url: str, *, migrate: bool = True) -> World:
    """Like `make_world`, with tools that send signed webhooks."""
    clock = TickingClock()
    tools: dict[str, MemoryConnector] = {
        name: SignedMemoryConnector(
            name=name,
            config=MemoryConfig(page_size=3),
            clock=clock,
            users={f"{name}-u1": "zoe@studio.example", f"{name}-u2": "lukasz@studio.example"},
        )
        for name in SOURCES
    }
    store = Store(store_url, migrate=migrate)
    return World(tools, store, Engine(store, tools, item_mappings()))


def signed_tools() -> dict[str, MemoryConnector]:
    """Tools a, b, c that send signed webhooks, on one clock, with two known users each."""
    clock = TickingClock()
    return {
        name: SignedMemoryConnector(
            name=name,
            config=MemoryConfig(page_size=3),
            clock=clock,
            users={f"{name}-u1": "zoe@studio.example", f"{name}-u2": "lukasz@studio.example"},
        )
        for name in SOURCES
    }


def write_item_mappings(directory: Path) -> Path:
    """The mappings of `item_mappings()` as files in `directory/mappings`; returns the folder."""
    folder = directory / "mappings"
    folder.mkdir(parents=True, exist_ok=True)
    for source in item_mappings().sources:
        (folder / source.name).write_text(source.text, encoding="utf-8")
    return folder


def make_service(
    store_url: str,
    mappings_dir: Path,
    tools: Mapping[str, MemoryConnector],
    **settings: Any,
) -> Service:
    """The real service wiring over memory tools, without background threads (no scheduler,
    one worker for every job, driven by the test through `service.workers[0].run_once()`)."""
    return Service(
        Settings(store_url=store_url, mappings_dir=mappings_dir, **settings),
        connectors=tools,
        schedule=False,
        lanes=False,
    )


def service_world(service: Service, tools: Mapping[str, MemoryConnector]) -> World:
    """A `World` over a service's store and engine, for `put` and `engine.sync()`."""
    return World(dict(tools), service.store, service.engine)
