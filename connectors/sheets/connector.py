"""`SheetsConnector`: tabs of one spreadsheet in (full snapshots), write-back cells out.

Entities are tab titles. A pull reads the whole tab in one `values:batchGet` and presents
each row by its header names (see `rows.py`); rows are identified by the key column, so
people may sort, insert and delete rows freely. A sheet has no clock, so there is no
incremental pull: every pull is a snapshot with `cursor=None`, and the engine skips rows
whose content it already has.

A push writes only the tab's write-back columns (`Synced At`, `Sync Status` unless
configured otherwise), never a producer's columns or rows. It re-reads the header row and
the columns it needs (rows may have moved since the pull), adds missing write-back headers
at the end of the header row, and writes every cell in one `values:batchUpdate`: k changes
to one tab cost one read and one write call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import gspread

from syncd.connector import (
    Batch,
    Capability,
    Identity,
    PushItem,
    PushResult,
    SourceRecord,
    WebhookEvent,
)
from syncd.errors import AuthError, PermanentError, UnsupportedCapability

from .a1 import row_span, whole_column, whole_row, whole_tab
from .client import HTTPClientFactory, SheetsClient
from .config import SheetsConfig
from .rows import RowShape, Tab, cells, column_cells, columns_of, key_rows, present
from .webhooks import edited_rows, parse_delivery
from .writes import Located, cell_value

log = logging.getLogger(__name__)

WRITE_ROWS_PER_CALL = 500  # rows a round hands one push (all of them go in one call)


class SheetsConnector:
    """A connector for one Google spreadsheet, acting as one service account."""

    kind: ClassVar[str] = "sheets"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PULL,
            Capability.PUSH,
            Capability.FETCH,
            Capability.FETCH_DELIVERED,
            Capability.WEBHOOK,
            Capability.SPREADSHEETS,
        }
    )
    # Every path is a header; a row's number and problem are not in its data.
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]] = {}
    config_model: ClassVar[type[SheetsConfig]] = SheetsConfig

    def __init__(
        self,
        name: str,
        config: SheetsConfig,
        *,
        gspread_client: gspread.Client | None = None,
        http_client: HTTPClientFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._name, self.config = name, config
        self.client = SheetsClient(
            name,
            config,
            gspread_client=gspread_client,
            http_client=http_client,
            clock=clock,
            sleep=sleep,
        )
        self._now = now
        self._log = log.getChild(name)
        self._lock = threading.Lock()
        self._headers: dict[str, list[str]] = {}  # tab -> header row as last read
        # tab -> (its keys, the keys more than one row holds) as the last whole read or
        # key-column read saw them: a partial read that finds them changed reads whole.
        self._keys: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    @classmethod
    def from_config(cls, name: str, config: SheetsConfig, **deps: Any) -> SheetsConnector:
        """Build from a `[connectors.<name>]` table (deps: gspread_client, http_client, clock,
        sleep, now)."""
        names = ("gspread_client", "http_client", "clock", "sleep", "now")
        return cls(name, config, **{k: v for k, v in deps.items() if k in names})

    @property
    def name(self) -> str:
        """The configured name of this instance."""
        return self._name

    @property
    def records_per_write(self) -> int:
        """A push writes every row's cells in one `values:batchUpdate`."""
        return WRITE_ROWS_PER_CALL

    @property
    def write_calls_per_second(self) -> float | None:
        """The configured write quota."""
        return self.config.write_quota_per_minute / 60.0

    @property
    def integration_user(self) -> str | None:
        """The service account's email (Apps Script triggers never fire for its writes)."""
        try:
            return self.client.client_email
        except AuthError as exc:
            self._log.warning("cannot tell syncd's own account: %s", exc)
            return None

    # -- reads ----------------------------------------------------------------------------
    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """The whole tab (one read call), `batch_size` rows per batch, every cursor None."""
        del cursor  # a sheet has no clock: every pull is a full snapshot
        key = self._key(entity)
        tab = self._read_tab(entity, key)
        records = tab.records(key, self._keep(entity, tab.header, fields))
        self._remember_keys(entity, {r.external_id: r.problem for r in records if r.external_id})
        size = self.config.batch_size
        for start in range(0, len(records), size):
            yield Batch(records=records[start : start + size], cursor=None)

    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """Re-read the tab (one call) and return the rows with these keys; missing: deleted.

        A key more than one row holds is there, not deleted: every row holding it comes
        back, each a problem naming them all."""
        key = self._key(entity)
        tab = self._read_tab(entity, key)
        found = present(tab.records(key, self._keep(entity, tab.header, fields)))
        return [
            record
            for e in dict.fromkeys(external_ids)
            for record in found.get(e)
            or [SourceRecord(entity=entity, data={}, deleted=True, external_id=e)]
        ]

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """The rows cell edits name, with the header and the key column, in one read.

        The key column tells which rows share a key (duplicates are reported as a whole
        read reports them). None, for a whole read, when the deliveries name no rows (see
        `webhooks.edited_rows`), the tab was not read whole yet by this process, its header
        has changed since, or its keys have: a key gone from the column (retyped, cleared)
        or a key newly held by two rows or no longer, so the whole read tells the engine
        which keys are gone and names every duplicate row where it is now.
        """
        header_row = self.config.header_row
        rows = edited_rows(
            deliveries,
            spreadsheet_id=self.config.spreadsheet_id,
            tab=entity,
            header_row=header_row,
            limit=self.config.edited_rows_limit,
        )
        key = self._key(entity)
        with self._lock:
            header = self._headers.get(entity)
        if rows is None or header is None or key not in columns_of(header):
            return None
        spans = _spans(rows)
        read = self.client.batch_get(
            [
                whole_row(entity, header_row),
                whole_column(entity, columns_of(header)[key]),
                *(row_span(entity, first, last) for first, last in spans),
            ]
        )
        header_now = [h.strip() for h in (cells(read[0]) or [[]])[0]]
        if header_now[: len(header)] != header or any(header_now[len(header) :]):
            return None  # columns moved or were added: read the whole tab
        places = key_rows(
            (number, value)
            for number, value in column_cells(read[1]).items()
            if number > header_row
        )
        if not self._keys_kept(entity, places):
            return None
        shape = RowShape.of(entity, header, key, self._keep(entity, header, fields))
        out: list[SourceRecord] = []
        for (first, last), value_range in zip(spans, read[2:], strict=True):
            values = cells(value_range)
            for number in range(first, last + 1):
                offset = number - first
                row = values[offset] if offset < len(values) else []
                record = shape.record(row, number, places)
                if record is not None:
                    out.append(record)
        return out

    def _remember_keys(self, entity: str, problems: Mapping[str, str | None]) -> None:
        """Note a whole read's keys (key -> its row's problem, if any), for `_keys_kept`."""
        duplicated = frozenset(k for k, problem in problems.items() if problem)
        with self._lock:
            self._keys[entity] = (frozenset(problems), duplicated)

    def _keys_kept(self, entity: str, places: Mapping[str, Sequence[int]]) -> bool:
        """Whether the key column read now (key -> rows) has every key the last read had and
        the same duplicated keys; remembers it when so."""
        duplicated = frozenset(k for k, rows in places.items() if len(rows) > 1)
        with self._lock:
            last = self._keys.get(entity)
            if last is None or not last[0] <= places.keys() or last[1] != duplicated:
                return False
            self._keys[entity] = (frozenset(places), duplicated)
        return True

    def people(self) -> Iterator[Identity]:
        """Sheets has no user directory syncd can read."""
        raise UnsupportedCapability(f"{self.name}: Google Sheets cannot list its users")

    def _key(self, entity: str) -> str:
        key = self.config.keys.get(entity)
        if key is None:
            raise PermanentError(
                self.name,
                f"tab {entity!r} has no key column configured: add it to "
                f"connectors.{self.name}.keys",
            )
        return key

    def _read_tab(self, entity: str, key: str) -> Tab:
        """One read of the whole tab; PermanentError naming the tab when it cannot be used."""
        try:
            [value_range] = self.client.batch_get([whole_tab(entity)])
        except PermanentError as exc:
            if "Unable to parse range" in str(exc):
                raise PermanentError(
                    self.name,
                    f"spreadsheet {self.config.spreadsheet_id!r} has no tab named {entity!r}",
                ) from exc
            raise
        tab = Tab.read(entity, value_range, self.config.header_row)
        with self._lock:
            self._headers[entity] = tab.header
        if key not in tab.columns():
            shown = ", ".join(repr(h) for h in tab.header if h) or "none"
            raise PermanentError(
                self.name,
                f"tab {entity!r} has no {key!r} column in header row {self.config.header_row} "
                f"(headers: {shown}); fix the sheet or connectors.{self.name}.keys",
            )
        for name in tab.duplicate_headers():
            self._log.warning("tab %r has two %r columns; only the first is read", entity, name)
        return tab

    def _keep(
        self, entity: str, header: Sequence[str], fields: Sequence[tuple[str, ...]]
    ) -> set[str] | None:
        """The headers to present (None: all); a mapped header the tab lacks is worth a word."""
        if not fields:
            return None
        keep = {path[0] for path in fields if path}
        missing = sorted(keep - set(columns_of(header)))
        if missing:
            self._log.warning("tab %r has no column %s (renamed?)", entity, ", ".join(missing))
        return keep

    # -- writes ---------------------------------------------------------------------------
    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Set write-back cells of the rows with these keys: one read, one write call."""
        result = PushResult()
        if not items:
            return result
        key = self._key(entity)
        allowed = self.config.write_back_columns(entity)
        wanted: list[tuple[PushItem, dict[str, Any]]] = []
        for item in items:
            values, reason = self._cells_of(entity, item.payload, allowed)
            if reason is not None:
                result.rejected[item.external_id] = reason
            else:
                wanted.append((item, values))
        if not wanted:
            return result
        needed = [h for h in allowed if any(h in values for _, values in wanted)]
        where = self._locate(entity, key, needed)
        data = where.add_headers(entity, self.config.header_row, needed)
        if data:
            added = ", ".join(str(block["values"][0][0]) for block in data)
            self._log.info("adding write-back column(s) %s to tab %r", added, entity)
            if where.columns_short():
                self._grow(entity, where.columns_short())
        for item, values in wanted:
            row = where.rows.get(item.external_id.strip())
            if row is None:
                reason = f"no row of {entity} has {key} {item.external_id}"
                result.rejected[item.external_id] = reason
                continue
            if item.external_id.strip() in where.duplicated:
                reason = f"more than one row of {entity} has {key} {item.external_id}"
                result.rejected[item.external_id] = reason
                continue
            data += where.blocks(entity, row, values)
            result.written.append(item.external_id)
        if data:
            self.client.batch_update_values(data)
            with self._lock:
                self._headers[entity] = where.header  # the new write-back headers included
        return result

    def _cells_of(
        self, entity: str, payload: Mapping[str, Any], allowed: Sequence[str]
    ) -> tuple[dict[str, Any], str | None]:
        """The cells to write for one item, or why it cannot be written."""
        values: dict[str, Any] = {}
        for header, value in payload.items():
            if header not in allowed:
                return {}, (
                    f"{header!r} is not a write-back column of {entity} "
                    f"(connectors.{self.name}.write_back); syncd never writes a producer's columns"
                )
            try:
                values[header] = cell_value(value)
            except ValueError as exc:
                return {}, f"{header!r}: {exc}"
        return values, None

    def _locate(self, entity: str, key: str, needed: Sequence[str]) -> Located:
        """Re-read the header row and the key and write-back columns (one read call).

        The columns are where the last read saw them; if the header row shows they have
        moved since (or the tab was never read), the whole tab is read instead.
        """
        with self._lock:
            cached = self._headers.get(entity)
        if cached is not None:
            where = self._locate_columns(entity, key, needed, cached)
            if where is not None:
                return where
        return Located.from_tab(self._read_tab(entity, key), key, needed)

    def _locate_columns(
        self, entity: str, key: str, needed: Sequence[str], cached: list[str]
    ) -> Located | None:
        """Read just the header row and the columns where `cached` says they are."""
        hr = self.config.header_row
        names = [key, *needed]
        before = columns_of(cached)
        if key not in before:
            return None
        targets = list(dict.fromkeys(before[n] for n in names if n in before))
        ranges = [whole_row(entity, hr)] + [whole_column(entity, c) for c in targets]
        header_range, *column_ranges = self.client.batch_get(ranges)
        header = [h.strip() for h in (cells(header_range) or [[]])[0]]
        if any(columns_of(header).get(n) != before.get(n) for n in names):
            return None  # a column moved since the last read
        with self._lock:
            self._headers[entity] = header
        columns = dict(zip(targets, column_ranges, strict=True))
        return Located.from_columns(key, hr, header, header_range, columns)

    def _grow(self, entity: str, columns: int) -> None:
        """Widen a tab whose grid ends where a new write-back column must go."""
        meta = self.client.metadata(fields="sheets.properties(sheetId,title)")
        sheet_id = next(
            (
                s["properties"]["sheetId"]
                for s in meta.get("sheets", [])
                if s.get("properties", {}).get("title") == entity
            ),
            None,
        )
        if sheet_id is None:
            raise PermanentError(self.name, f"tab {entity!r} disappeared while writing to it")
        request = {"sheetId": sheet_id, "dimension": "COLUMNS", "length": columns}
        self.client.batch_update([{"appendDimension": request}])

    # -- for the rollups writer -----------------------------------------------------------
    @property
    def spreadsheet_id(self) -> str:
        """The configured spreadsheet."""
        return self.config.spreadsheet_id

    def spreadsheet_metadata(self, spreadsheet_id: str | None = None) -> dict[str, Any]:
        """The spreadsheet's properties and tabs, without cell data (one read call)."""
        return self.client.metadata(spreadsheet_id=spreadsheet_id)

    def batch_update(
        self, requests: Sequence[Mapping[str, Any]], spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        """`spreadsheets:batchUpdate` with these requests, all or none (one write call).

        Retried on 429, 5xx and network errors like every call, so a request may reach
        Google twice: send requests that are safe to repeat (set cells and properties by
        range; an `addSheet` replayed fails with "already exists").
        """
        return self.client.batch_update(requests, spreadsheet_id=spreadsheet_id)

    def read_values(
        self, ranges: Sequence[str], spreadsheet_id: str | None = None
    ) -> list[dict[str, Any]]:
        """ValueRanges of A1 ranges, as displayed (one read call)."""
        return self.client.batch_get(ranges, spreadsheet_id=spreadsheet_id)

    def write_values(
        self, data: Sequence[Mapping[str, Any]], spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        """`values:batchUpdate` of `{"range", "values"}` blocks, USER_ENTERED (one write)."""
        return self.client.batch_update_values(data, spreadsheet_id=spreadsheet_id)

    # -- webhooks -------------------------------------------------------------------------
    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """The Apps Script names cells, not values: a changed tab is always re-read."""
        del entity, stored, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: sheet deliveries carry no values")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify the Apps Script's Standard Webhooks signature; name the tab that changed."""
        secret = self.config.webhook_secret
        return parse_delivery(
            headers,
            body,
            secret=secret.get_secret_value() if secret is not None else None,
            secret_setting=f"connectors.{self.name}.webhook_secret",
            now=self._now(),
            spreadsheet_id=self.config.spreadsheet_id,
            tabs=self.config.keys,
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()


def _spans(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as runs of consecutive rows: [5, 6, 9] -> [(5, 6), (9, 9)]."""
    spans: list[tuple[int, int]] = []
    for number in rows:
        if spans and number == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    return spans
