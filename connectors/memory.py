"""An in-memory connector: a tool whose records live in a dict. For tests and experiments.

It follows the connector contract exactly (paged incremental pulls with an opaque cursor,
idempotent pushes, deletes, people), so engine tests exercise the same paths a real
connector takes, and third-party connector authors can compare against it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

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


class MemoryConfig(ConnectorConfig):
    """Config of an in-memory connector."""

    kind: Literal["memory"] = "memory"
    page_size: int = 50
    key: str = "id"  # the data field holding each record's id


@dataclass
class _Stored:
    data: dict[str, Any]
    seq: int
    deleted: bool = False


@dataclass
class Write:
    """One push the connector received, for assertions on write counts."""

    entity: str
    external_id: str
    payload: dict[str, Any]


class TickingClock:
    """A clock that moves one second per reading, so edits are strictly ordered."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


def _merge(target: dict[str, Any], payload: Mapping[str, Any]) -> None:
    for key, value in payload.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = deepcopy(value)


@dataclass
class MemoryConnector:
    """A connector over an in-memory store of records."""

    kind: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PULL,
            Capability.PUSH,
            Capability.INCREMENTAL,
            Capability.FETCH,
            Capability.DELETES,
            Capability.PEOPLE,
        }
    )
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]] = {}
    config_model: ClassVar[type[MemoryConfig]] = MemoryConfig

    name: str
    config: MemoryConfig = field(default_factory=MemoryConfig)
    clock: Callable[[], datetime] = field(default_factory=TickingClock)
    integration_user: str | None = "syncd"
    users: dict[str, str] = field(default_factory=dict)  # user id -> email
    writes: list[Write] = field(default_factory=list)
    _records: dict[str, dict[str, _Stored]] = field(default_factory=dict)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def records_per_write(self) -> int:
        """No calls: any number at once."""
        return 500

    @property
    def write_calls_per_second(self) -> float | None:
        """No quota."""
        return None

    @classmethod
    def from_config(cls, name: str, config: MemoryConfig, **_: Any) -> MemoryConnector:
        """Build from a `[connectors.<name>]` table."""
        return cls(name=name, config=config)

    # -- the tool's side: people editing ---------------------------------------------------

    def put(self, entity: str, data: Mapping[str, Any]) -> None:
        """Create or change a record as a person would (merging nested values)."""
        with self._lock:
            external_id = str(data[self.config.key])
            stored = self._records.setdefault(entity, {}).get(external_id)
            self._seq += 1
            if stored is None:
                stored = _Stored(data={}, seq=self._seq)
                self._records[entity][external_id] = stored
            _merge(stored.data, data)
            stored.data["updated_at"] = self.clock().isoformat()
            stored.seq, stored.deleted = self._seq, False

    def delete(self, entity: str, external_id: str) -> None:
        """Delete a record as a person would."""
        with self._lock:
            self._seq += 1
            stored = self._records[entity][external_id]
            stored.deleted, stored.seq = True, self._seq

    def get(self, entity: str, external_id: str) -> dict[str, Any]:
        """A record's current data."""
        return deepcopy(self._records[entity][external_id].data)

    def all(self, entity: str) -> dict[str, dict[str, Any]]:
        """Every live record of an entity."""
        return {
            k: deepcopy(v.data) for k, v in self._records.get(entity, {}).items() if not v.deleted
        }

    # -- the connector contract -----------------------------------------------------------

    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Records changed after the cursor (a sequence number), a page per batch."""
        del fields  # an in-memory tool returns everything
        since = int(cursor) if cursor else 0
        with self._lock:
            changed = sorted(
                ((k, v) for k, v in self._records.get(entity, {}).items() if v.seq > since),
                key=lambda kv: kv[1].seq,
            )
            snapshot = [(k, deepcopy(v.data), v.seq, v.deleted) for k, v in changed]
        size = self.config.page_size
        for start in range(0, len(snapshot), size):
            page = snapshot[start : start + size]
            records = [
                SourceRecord(
                    entity=entity, data={} if deleted else data, deleted=deleted, external_id=key
                )
                for key, data, _, deleted in page
            ]
            yield Batch(records=records, cursor=str(page[-1][2]))

    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """Current state of the given records; unknown or deleted ones come back deleted."""
        del fields
        out = []
        with self._lock:
            for external_id in external_ids:
                stored = self._records.get(entity, {}).get(external_id)
                if stored is None or stored.deleted:
                    out.append(
                        SourceRecord(entity=entity, data={}, deleted=True, external_id=external_id)
                    )
                else:
                    out.append(
                        SourceRecord(
                            entity=entity, data=deepcopy(stored.data), external_id=external_id
                        )
                    )
        return out

    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Merge each payload into its record; unknown records are rejected."""
        result = PushResult()
        with self._lock:
            for item in items:
                stored = self._records.get(entity, {}).get(item.external_id)
                if stored is None or stored.deleted:
                    result.rejected[item.external_id] = "no such record"
                    continue
                self.writes.append(Write(entity, item.external_id, deepcopy(item.payload)))
                _merge(stored.data, item.payload)
                self._seq += 1
                stored.seq = self._seq
                stored.data["updated_at"] = self.clock().isoformat()
                result.written.append(item.external_id)
        return result

    def people(self) -> Iterator[Identity]:
        """The configured users."""
        for user_id, email in self.users.items():
            yield Identity(user_id=user_id, email=email)

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """An in-memory tool sends no webhooks."""
        del entity, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: no webhooks to narrow a read")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """An in-memory tool sends no webhooks."""
        del headers, body
        raise UnsupportedCapability(f"{self.name} does not receive webhooks")

    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """An in-memory tool sends no webhooks."""
        del entity, stored, deliveries, fields
        raise UnsupportedCapability(f"{self.name} does not receive webhooks")

    def close(self) -> None:
        """Nothing to release."""
