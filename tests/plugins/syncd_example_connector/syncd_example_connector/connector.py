"""`JsonFileConnector`: a tool whose records are the items of a JSON file.

The file holds one list of items per entity, each item with its own id:
`{"tasks": [{"id": "T-1", "title": "Rig the hero", "status": "open"}]}`. A file has no
change clock, so every pull is a full snapshot (`cursor=None`); the engine skips the items
whose content it already has. An item without an id is a problem record: reported at its
place, not synced.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from syncd.connector import (
    Batch,
    Capability,
    ConnectorConfig,
    Identity,
    PushItem,
    PushResult,
    SourceRecord,
    WebhookEvent,
)
from syncd.errors import UnsupportedCapability


class JsonFileConfig(ConnectorConfig):
    """The `[connectors.<name>]` table of a JSON-file tool."""

    kind: Literal["example"] = "example"
    path: Path = Field(description="the JSON file: a list of items per entity")
    key: str = Field("id", description="the item field holding each item's id")
    page_size: int = Field(100, ge=1, description="items per batch of a pull")


class JsonFileConnector:
    """A connector over one JSON file."""

    kind: ClassVar[str] = "example"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PULL, Capability.PUSH, Capability.FETCH}
    )
    # Any item field may be written (ids too would be, but a mapping never pushes its key).
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]] = {}
    config_model: ClassVar[type[JsonFileConfig]] = JsonFileConfig

    def __init__(self, name: str, config: JsonFileConfig) -> None:
        self._name, self.config = name, config
        self._lock = threading.Lock()  # a push reads, changes and rewrites the whole file

    @classmethod
    def from_config(cls, name: str, config: JsonFileConfig, **deps: Any) -> JsonFileConnector:
        """Build from a `[connectors.<name>]` table (a local file needs no injected deps)."""
        del deps
        return cls(name, config)

    @property
    def name(self) -> str:
        """The configured name of this instance."""
        return self._name

    @property
    def integration_user(self) -> str | None:
        """A file has no users, so no edit is syncd's own echo."""
        return None

    @property
    def records_per_write(self) -> int:
        """A push rewrites the file once, however many items it changes."""
        return 500

    @property
    def write_calls_per_second(self) -> float | None:
        """No quota."""
        return None

    # -- reads ----------------------------------------------------------------------------
    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Every item of the entity, `page_size` per batch; no clock, so no cursor."""
        del cursor, fields  # a full snapshot each time, every field
        records = self._records(entity)
        size = self.config.page_size
        for start in range(0, len(records), size):
            yield Batch(records=records[start : start + size], cursor=None)

    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """The items with these ids; an id the file no longer has comes back deleted."""
        del fields
        found = {r.external_id: r for r in self._records(entity) if r.problem is None}
        return [
            found.get(e) or SourceRecord(entity=entity, data={}, deleted=True, external_id=e)
            for e in external_ids
        ]

    def _records(self, entity: str) -> list[SourceRecord]:
        """The entity's items as records, in file order; items without an id as problems."""
        with self._lock:
            items = self._load().get(entity, [])
        records = []
        for number, item in enumerate(items, start=1):
            external_id = str(item.get(self.config.key) or "")
            if not external_id:
                problem = f"the item has no {self.config.key}"
                records.append(SourceRecord(entity=entity, data=item, row=number, problem=problem))
            else:
                records.append(
                    SourceRecord(entity=entity, data=item, external_id=external_id, row=number)
                )
        return records

    # -- writes ---------------------------------------------------------------------------
    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Set values on the items with these ids, in one rewrite of the file."""
        result = PushResult()
        with self._lock:
            content = self._load()
            by_id = {str(i.get(self.config.key)): i for i in content.get(entity, [])}
            for item in items:
                target = by_id.get(item.external_id)
                if target is None:
                    result.rejected[item.external_id] = f"no {entity} item has this id"
                    continue
                _merge(target, item.payload)
                result.written.append(item.external_id)
            if result.written:
                self._save(content)
        return result

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        content: dict[str, list[dict[str, Any]]] = json.loads(self.config.path.read_text())
        return content

    def _save(self, content: Mapping[str, Any]) -> None:
        # Write beside, then rename: a reader never sees a half-written file.
        partial = self.config.path.with_suffix(".partial")
        partial.write_text(json.dumps(content, indent=2, ensure_ascii=False))
        os.replace(partial, self.config.path)

    # -- what a file cannot do ------------------------------------------------------------
    def people(self) -> Iterator[Identity]:
        """A file has no users."""
        raise UnsupportedCapability(f"{self.name}: a JSON file has no users")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """A file sends no webhooks."""
        del headers, body
        raise UnsupportedCapability(f"{self.name}: a JSON file sends no webhooks")

    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """A file sends no webhooks."""
        del entity, stored, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: a JSON file sends no webhooks")

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """A file sends no webhooks."""
        del entity, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: a JSON file sends no webhooks")

    def close(self) -> None:
        """Nothing to release: the file is opened only while it is read or written."""


def _merge(target: dict[str, Any], payload: Mapping[str, Any]) -> None:
    """Set the payload's values in `target`, level by level (a push never drops a field)."""
    for key, value in payload.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
