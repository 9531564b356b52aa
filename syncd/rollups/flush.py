"""`RollupPublisher`: when to write the consolidated sheet, and only what changed.

- **Only changed tabs.** Each tab's content is hashed (`tab_hash`); the hash of what was
  last written is kept in the store (`rollup_tabs`). A flush rewrites the tabs whose hash
  or title differs, plus any owned tab missing from the spreadsheet (a producer deleted
  it). When nothing changed, nothing is read or written.
- **Inside the write quota.** Google allows 60 write requests a minute per user (the
  service account), shared with every other writer of that account. A flush is one
  `spreadsheets.batchUpdate` (plus one metadata read), and flushes are at least
  `interval` apart, counted from the last attempt, successful or not: with the default
  10 s, at most 6 writes a minute however many edits arrive.
- **Coalescing.** `submit` keeps only the latest rollups (the last state wins). When the
  interval has not elapsed the rollups wait; `flush` (called by the worker's loop or
  scheduler) writes them once `next_flush_at` has come.

The writer is a small protocol so the Sheets connector can provide it; tests use gspread.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from syncd.rollups.layout import LAYOUT_VERSION, build_requests, read_sheets, tab_title
from syncd.rollups.model import RollupSet, RollupTab
from syncd.store.rollup_tabs import WrittenTab
from syncd.store.store import Store


class SpreadsheetWriter(Protocol):
    """Reads the consolidated spreadsheet's metadata and applies one batch update."""

    def metadata(self) -> dict[str, Any]:
        """spreadsheets.get (no grid data): sheets with properties, charts, conditional formats."""
        ...

    def batch_update(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """spreadsheets.batchUpdate with these requests (atomic); returns the reply."""
        ...


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def tab_hash(tab: RollupTab, currency: str) -> str:
    """A stable hash of everything a tab shows (its content, the currency, the layout)."""
    payload = {"layout": LAYOUT_VERSION, "currency": currency, "tab": asdict(tab)}
    text = json.dumps(payload, sort_keys=True, default=_encode, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FlushResult:
    """What a submit or flush did."""

    written: tuple[str, ...] = ()  # tab keys rewritten
    unchanged: tuple[str, ...] = ()  # tab keys skipped, same content as last written
    requests: int = 0  # requests in the batch update (0: no write)
    waiting: bool = False  # rollups wait for the interval; see next_flush_at


@dataclass
class _State:
    pending: RollupSet | None = None
    last_attempt: datetime | None = None
    loaded: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class RollupPublisher:
    """Writes rollups to the consolidated spreadsheet: changed tabs only, spaced by `interval`."""

    def __init__(
        self,
        store: Store,
        writer: SpreadsheetWriter,
        *,
        spreadsheet_id: str,
        prefix: str,
        interval: timedelta = timedelta(seconds=10),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store, self.writer = store, writer
        self.spreadsheet_id, self.prefix, self.interval = spreadsheet_id, prefix, interval
        self.clock = clock or store.clock
        self._state = _State()
        self._flushing = threading.Lock()

    @property
    def pending(self) -> RollupSet | None:
        """The rollups waiting to be written, if any."""
        return self._state.pending

    def submit(self, rollups: RollupSet, *, force: bool = False) -> FlushResult:
        """Take the latest rollups (replacing any waiting) and flush them if the time has come
        (`force`: now, every tab). The result says what this call wrote."""
        with self._state.lock:
            self._state.pending = rollups
        return self.flush(force=force)

    def next_flush_at(self) -> datetime | None:
        """When waiting rollups can be written (None: nothing waits)."""
        if self._state.pending is None:
            return None
        last = self._last_attempt()
        return self.clock() if last is None else last + self.interval

    def flush(self, *, force: bool = False) -> FlushResult:
        """Write the waiting rollups' changed tabs, if the interval allows (`force`: all tabs)."""
        with self._flushing:
            rollups = self._state.pending
            if rollups is None:
                return FlushResult()
            now = self.clock()
            last = self._last_attempt()
            if last is not None and now - last < self.interval:
                return FlushResult(waiting=True)
            hashes = {tab.key: tab_hash(tab, rollups.currency) for tab in rollups.tabs}
            titles = {tab.key: tab_title(self.prefix, tab) for tab in rollups.tabs}
            with self.store.transaction() as tx:
                stored = tx.rollup_tabs.load(self.spreadsheet_id)
            changed = {
                key
                for key, digest in hashes.items()
                if force
                or key not in stored
                or stored[key].content_hash != digest
                or stored[key].title != titles[key]
            }
            if not changed:
                self._done(rollups)
                return FlushResult(unchanged=tuple(hashes))
            self._state.last_attempt = now  # failed attempts count too: no hammering
            metadata = self.writer.metadata()
            present = {sheet.title for sheet in read_sheets(metadata)}
            changed |= {key for key, title in titles.items() if title not in present}
            requests = build_requests(rollups, metadata, prefix=self.prefix, only=changed)
            self.writer.batch_update(requests)
            written = {key: WrittenTab(titles[key], hashes[key], now) for key in changed}
            with self.store.transaction() as tx:
                tx.rollup_tabs.save(self.spreadsheet_id, written)
            self._done(rollups)
            keys = [tab.key for tab in rollups.tabs]
            return FlushResult(
                written=tuple(k for k in keys if k in changed),
                unchanged=tuple(k for k in keys if k not in changed),
                requests=len(requests),
            )

    def _done(self, rollups: RollupSet) -> None:
        with self._state.lock:
            if self._state.pending is rollups:  # a newer submit keeps waiting
                self._state.pending = None

    def _last_attempt(self) -> datetime | None:
        state = self._state
        if not state.loaded:
            with self.store.transaction() as tx:
                stored = tx.rollup_tabs.last_write(self.spreadsheet_id)
            state.loaded = True
            if state.last_attempt is None or (stored and stored > state.last_attempt):
                state.last_attempt = stored
        return state.last_attempt
