"""Keeps the consolidated sheet current: recompute the rollups from the store, publish them.

The worker runs this as a `rollup` job, queued (coalesced, delayed by the flush interval)
after any work that changed records, so a burst of edits costs one recompute and one sheet
write per interval, whatever its size.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from syncd.connector import Capability, Connector, SpreadsheetApi
from syncd.rollups.compute import compute_rollups
from syncd.rollups.flush import FlushResult, RollupPublisher
from syncd.rollups.model import RollupSet
from syncd.rollups.source import ParsedRows, read_rollup_input
from syncd.settings import RollupSettings
from syncd.store.store import Store

log = logging.getLogger(__name__)


class ConnectorWriter:
    """The rollup publisher's `SpreadsheetWriter`, through the Sheets connector."""

    def __init__(self, api: SpreadsheetApi, spreadsheet_id: str) -> None:
        self.api, self.spreadsheet_id = api, spreadsheet_id

    def metadata(self) -> dict[str, Any]:
        """The consolidated spreadsheet's tabs, charts and rules."""
        return self.api.spreadsheet_metadata(self.spreadsheet_id)

    def batch_update(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """One atomic batch update."""
        return self.api.batch_update(requests, self.spreadsheet_id)


class RollupRunner:
    """Compute and publish the rollups."""

    def __init__(
        self, store: Store, settings: RollupSettings, api: SpreadsheetApi, spreadsheet_id: str
    ) -> None:
        self.store, self.settings = store, settings
        self._parsed = ParsedRows()  # rows unchanged since the last recompute are not re-parsed
        self.publisher = RollupPublisher(
            store,
            ConnectorWriter(api, spreadsheet_id),
            spreadsheet_id=spreadsheet_id,
            prefix=settings.tab_prefix,
            interval=timedelta(seconds=settings.flush_interval_seconds),
        )

    @property
    def interval(self) -> timedelta:
        """The shortest time between two writes to the sheet."""
        return self.publisher.interval

    def compute(self) -> RollupSet:
        """The rollups as the store stands now."""
        data = read_rollup_input(
            self.store, pipeline_connector=self.settings.pipeline_connector, parsed=self._parsed
        )
        return compute_rollups(data, self.settings)

    def run(self, *, force: bool = False) -> FlushResult:
        """Recompute and write what changed (now if `force`, else when the interval allows)."""
        # One flush, whose result is what was written: flushing again after the submit's own
        # flush found nothing waiting and reported "0 tabs" for a write of six.
        result = self.publisher.submit(self.compute(), force=force)
        if result.written:
            log.info("consolidated sheet: wrote %s", ", ".join(result.written))
        return result


def build_runner(
    store: Store, settings: RollupSettings, connectors: Mapping[str, Connector]
) -> RollupRunner | None:
    """A runner when the configured Sheets connector can write a spreadsheet, else None."""
    api = connectors.get(settings.connector)
    if (
        api is None
        or Capability.SPREADSHEETS not in api.capabilities
        or not isinstance(api, SpreadsheetApi)
    ):
        return None
    spreadsheet_id = settings.spreadsheet_id or api.spreadsheet_id
    if not spreadsheet_id:
        return None
    return RollupRunner(store, settings, api, spreadsheet_id)
