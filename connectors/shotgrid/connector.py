"""`ShotGridConnector`: ShotGrid (Flow Production Tracking) records in and out over REST v1.

Reads are keyset-paged `_search` calls (see `paging.py`), 500 rows per call, scoped to the
configured project. Writes are `_batch` update requests, many per call; the site runs a batch
as one transaction, so when it refuses one the bad request is found (the site names it, or
the batch is split in halves) and rejected with the site's reason while the others are
still written. Records are presented flat: `id`, `type`, every attribute and every link
side by side, which is what `mappings/shotgrid.toml` addresses.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from syncd.connector import (
    Batch,
    Capability,
    Identity,
    PushItem,
    PushResult,
    SourceRecord,
    WebhookEvent,
)
from syncd.egress import GuardedTransport
from syncd.errors import ConnectorError, PermanentError, UnsupportedCapability
from syncd.http import RateLimiter

from .client import RefusedError, ShotGridClient, describe_error
from .config import ShotGridConfig
from .paging import Cursor, field_list, flatten, id_body, row_time, search_body, served_size
from .webhooks import apply_events, author_of, parse_deliveries

log = logging.getLogger(__name__)

_SERVER_FIELDS = frozenset(
    {"id", "type", "created_at", "updated_at", "created_by", "updated_by", "cached_display_name"}
)


class ShotGridConnector:
    """A connector for one ShotGrid site and project, acting as one API script."""

    kind: ClassVar[str] = "shotgrid"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PULL,
            Capability.PUSH,
            Capability.INCREMENTAL,
            Capability.FETCH,
            Capability.DELETES,
            Capability.WEBHOOK,
            Capability.WEBHOOK_VALUES,
            Capability.PEOPLE,
        }
    )
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]] = {
        "Task": _SERVER_FIELDS | {"project", "time_logs_sum"},
        "Asset": _SERVER_FIELDS | {"project", "tasks"},
        "Shot": _SERVER_FIELDS | {"project", "tasks"},
    }
    config_model: ClassVar[type[ShotGridConfig]] = ShotGridConfig

    def __init__(
        self,
        name: str,
        config: ShotGridConfig,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._name, self.config = name, config
        self._owns_http = http is None
        if http is None:
            if transport is None and not config.allow_private_addresses:
                transport = GuardedTransport(name)
            http = httpx.Client(transport=transport, timeout=config.timeout_seconds)
        limiter = RateLimiter(config.rate_limit_per_minute, clock=clock, sleep=sleep)
        self.client = ShotGridClient(
            name, config, http=http, clock=clock, sleep=sleep, limiter=limiter
        )
        self._log = log.getChild(name)
        self._script_user: str | None = None

    @classmethod
    def from_config(cls, name: str, config: ShotGridConfig, **deps: Any) -> ShotGridConnector:
        """Build from a `[connectors.<name>]` table (deps: http, transport, clock, sleep)."""
        known = {k: v for k, v in deps.items() if k in ("http", "transport", "clock", "sleep")}
        return cls(name, config, **known)

    @property
    def name(self) -> str:
        """The configured name of this instance."""
        return self._name

    @property
    def records_per_write(self) -> int:
        """Updates per `_batch` call."""
        return self.config.batch_size

    @property
    def write_calls_per_second(self) -> float | None:
        """The configured quota, shared by reads and writes."""
        return self.config.rate_limit_per_minute / 60.0

    @property
    def integration_user(self) -> str | None:
        """The script's ApiUser as `"ApiUser:<id>"`, the form webhook authors take.

        `api_user_id` when configured; else read from the access token's `user` claim (no
        extra call), else found by an `ApiUser` search on the script name, as
        sg-jira-bridge does. None (and a warning) while the site cannot be reached.
        """
        if self._script_user is None:
            if self.config.api_user_id is not None:
                self._script_user = f"ApiUser:{self.config.api_user_id}"
            else:
                try:
                    self._script_user = self._find_script_user()
                except ConnectorError as exc:
                    # Webhook intake asks for this; not knowing our own id only means an echo
                    # is re-read and found unchanged, so do not fail the delivery over it.
                    self._log.warning("cannot tell which ApiUser this script is: %s", exc)
                    return None
        return self._script_user

    def _find_script_user(self) -> str | None:
        # One attempt, not the retry policy: webhook intake asks, and must answer in seconds.
        user = _token_user(self.client.access_token())
        if user is not None:
            return user
        filters = [["firstname", "is", self.config.script_name]]
        for rows in self._by_id("ApiUser", filters, "firstname"):
            return f"ApiUser:{rows[0]['id']}"
        return None

    # -- reads ----------------------------------------------------------------------------
    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Rows updated since the cursor (all when None), a page per batch; then tombstones.

        The live sweep re-reads `overlap_seconds` before its watermark; then a sweep of rows
        moved to the trash since the retired watermark yields them as deleted.
        """
        state = Cursor.decode(cursor)
        overlap = timedelta(seconds=self.config.overlap_seconds)
        names = field_list(entity, fields)
        since = state.updated - overlap if state.updated else None
        for rows in self._by_time(entity, names, since=since, retired=False):
            records = [
                SourceRecord(entity=entity, data=flatten(row), external_id=str(row["id"]))
                for row in rows
            ]
            state = state.advanced(updated=row_time(rows[-1]))
            yield Batch(records=records, cursor=state.encode())
        since = state.retired - overlap if state.retired else None
        for rows in self._by_time(entity, "updated_at", since=since, retired=True):
            records = [
                SourceRecord(entity=entity, data={}, deleted=True, external_id=str(row["id"]))
                for row in rows
            ]
            state = state.advanced(retired=row_time(rows[-1]))
            yield Batch(records=records, cursor=state.encode())

    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """Current state of the given rows; missing, trashed or other-project ones: deleted."""
        wanted = list(dict.fromkeys(external_ids))
        ids = [int(e) for e in wanted if e.isdigit()]
        names = field_list(entity, fields)
        found: dict[str, dict[str, Any]] = {}
        size = self.config.page_size
        for start in range(0, len(ids), size):
            filters = [
                ["project.Project.id", "is", self.config.project_id],
                ["id", "in", ids[start : start + size]],
            ]
            for rows in self._by_id(entity, filters, names):
                found.update((str(row["id"]), flatten(row)) for row in rows)
        return [
            SourceRecord(entity=entity, data=found[e], external_id=e)
            if e in found
            else SourceRecord(entity=entity, data={}, deleted=True, external_id=e)
            for e in wanted
        ]

    def people(self) -> Iterator[Identity]:
        """Every HumanUser (id -> email); ids bare, as the mapping's `entity_id` reads them."""
        for rows in self._by_id("HumanUser", [], "name,email"):
            for row in rows:
                attributes = row.get("attributes") or {}
                yield Identity(
                    user_id=str(row["id"]),
                    email=attributes.get("email") or None,
                    display_name=attributes.get("name") or None,
                )

    def _by_time(
        self, entity: str, fields: str, *, since: datetime | None, retired: bool
    ) -> Iterator[list[dict[str, Any]]]:
        """Non-empty pages of the project's rows in `(updated_at, id)` order.

        Each page is page 1 of a query for the rows after the last one seen, never page n of
        one query: with page numbers, a row edited mid-pull moves to the end and the rows
        behind it slide forward, so one would be skipped (see `paging`). A page shorter than
        the size the site served is the last one (`links.next` is always present).
        """
        after = None
        size = self.config.page_size
        while True:
            body = search_body(
                self.config.project_id,
                fields=fields,
                size=size,
                since=since,
                after=after,
                retired=retired,
            )
            reply = self.client.search(entity, body)
            rows: list[dict[str, Any]] = reply["data"]
            if rows:
                yield rows
            if len(rows) < served_size(reply, size):
                return
            last = (row_time(rows[-1]), int(rows[-1]["id"]))
            if after is not None and last <= after:
                raise PermanentError(self.name, f"paging {entity} did not advance past {last}")
            after = last

    def _by_id(
        self, entity: str, filters: list[Any], fields: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Non-empty pages of rows matching `filters`, in id order (keyset paged)."""
        after_id = None
        size = self.config.page_size
        while True:
            body = id_body(filters, fields=fields, size=size, after_id=after_id)
            reply = self.client.search(entity, body)
            rows: list[dict[str, Any]] = reply["data"]
            if rows:
                yield rows
            if len(rows) < served_size(reply, size):
                return
            last_id = int(rows[-1]["id"])
            if after_id is not None and last_id <= after_id:
                raise PermanentError(self.name, f"paging {entity} did not advance past {last_id}")
            after_id = last_id

    # -- writes ---------------------------------------------------------------------------
    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Set the given fields on existing rows, `batch_size` updates per `_batch` call."""
        result = PushResult()
        valid = []
        for item in items:
            if item.external_id.isdigit():
                valid.append(item)
            else:
                result.rejected[item.external_id] = "not a ShotGrid record id"
        size = self.config.batch_size
        for start in range(0, len(valid), size):
            self._write(entity, valid[start : start + size], result)
        return result

    def _write(self, entity: str, items: list[PushItem], result: PushResult) -> None:
        """One `_batch`; when refused, reject the bad update(s) and write the rest."""
        pending = items
        while pending:
            requests = [
                {
                    "request_type": "update",
                    "entity": entity,
                    "record_id": int(item.external_id),
                    "data": item.payload,
                }
                for item in pending
            ]
            try:
                self.client.batch(requests)
            except RefusedError as exc:
                if len(pending) == 1:
                    result.rejected[pending[0].external_id] = _reason(exc, 0)
                    return
                named = _failed_requests(exc, len(pending))
                if not named:
                    # The site did not say which update failed: split and try each half.
                    middle = len(pending) // 2
                    self._write(entity, pending[:middle], result)
                    self._write(entity, pending[middle:], result)
                    return
                for index in named:
                    result.rejected[pending[index].external_id] = _reason(exc, index)
                    self._log.info("update of %s %s refused", entity, pending[index].external_id)
                pending = [item for i, item in enumerate(pending) if i not in named]
                continue
            result.written.extend(item.external_id for item in pending)
            return

    # -- webhooks -------------------------------------------------------------------------
    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """Stored tasks, assets and shots with the attribute changes delivered since."""
        names = field_list(entity, fields)
        if names == "*":
            return {}  # cannot tell whether the stored data holds every field
        return apply_events(entity, stored, deliveries, names.split(","))

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """Records are re-read by id (`fetch`), or taken from deliveries."""
        del entity, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: records are fetched by id")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify `X-SG-SIGNATURE` over the raw body; one event per delivery of a mapped type."""
        secret = self.config.webhook_secret
        return parse_deliveries(
            headers,
            body,
            secret=secret.get_secret_value() if secret is not None else None,
            secret_setting=f"connectors.{self.name}.webhook_secret",
            entities=self.config.entities,
            project_id=self.config.project_id,
        )

    def close(self) -> None:
        """Close the HTTP session, if this connector opened it."""
        if self._owns_http:
            self.client.close()


def _token_user(token: str) -> str | None:
    """`"<type>:<id>"` from the `user` claim of a JWT-shaped access token, if it has one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return None
    return author_of(claims.get("user")) if isinstance(claims, dict) else None


def _failed_requests(exc: RefusedError, count: int) -> set[int]:
    """Indexes of the batch's requests the site blamed (`source.requests.<index>`)."""
    named: set[int] = set()
    for error in exc.errors:
        source = error.get("source")
        requests = source.get("requests") if isinstance(source, dict) else None
        if isinstance(requests, dict):
            named.update(int(k) for k in requests if str(k).isdigit() and int(k) < count)
    return named


def _reason(exc: RefusedError, index: int) -> str:
    """The site's words for why request `index` (or the whole call) was refused."""
    for error in exc.errors:
        source = error.get("source")
        requests = source.get("requests") if isinstance(source, dict) else None
        if isinstance(requests, dict) and str(index) in requests:
            detail = requests[str(index)]
            text = describe_error(error)
            if isinstance(detail, dict | list):
                text = f"{text} {json.dumps(detail)}"
            return text
    if exc.errors:
        return "; ".join(describe_error(e) for e in exc.errors)
    return str(exc)
