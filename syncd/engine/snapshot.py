"""A complete read of one entity, and what it says by leaving records out.

A pull from no cursor (a first or `--full` sync), or any pull of a tool that has no
incremental reads (a sheet: every read is the whole tab), holds every record the tool
has. Its pages are stored one at a time; this notes the keys they held, and when the
last page is stored, the entity's live links the read did not find are marked gone (a
deleted row or issue, a retyped key) and the problems it reported at rows it no longer
reports are settled. Links seen after the read began (a webhook's refresh in between)
are left alone: the read could not have seen them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from syncd.connector import Capability, Connector, SourceRecord
from syncd.engine.links import mark_deleted
from syncd.engine.report import SyncReport
from syncd.mapping.apply import EntityMapping
from syncd.store.store import Tx

log = logging.getLogger(__name__)


def is_complete_read(connector: Connector, cursor: str | None) -> bool:
    """Whether a pull from `cursor` reads every record of the entity."""
    return cursor is None or Capability.INCREMENTAL not in connector.capabilities


@dataclass
class Snapshot:
    """The keys a complete read of one entity found, page by page."""

    mapping: EntityMapping
    started_at: datetime  # the store's clock before the read's first call
    seen: set[str] = field(default_factory=set)
    records: int = 0

    def saw(self, records: Sequence[SourceRecord]) -> None:
        """Note a page's keys: usable records, and problem rows that still hold their key (a
        key two rows hold is there, not gone)."""
        for record in records:
            if record.deleted:
                continue
            self.records += 1
            key = record.external_id
            if record.problem is None:
                # An unreadable key is reported as the page is stored; the record's own
                # key, if any, still counts.
                with suppress(ValueError):
                    key = self.mapping.external_id(record.data)
            if key:
                self.seen.add(key)

    def finish(
        self, tx: Tx, *, version: str | None, run_id: str | None, inbox: Sequence[int] = ()
    ) -> SyncReport:
        """Mark the links the read did not find gone; settle problems it no longer reports.

        `inbox`: the deliveries that asked for the read (they may say who deleted)."""
        report = SyncReport()
        tx.serialize_writers()
        connector, entity = self.mapping.connector, self.mapping.entity
        stored = tx.links.live_ids_seen_before(connector, entity, self.started_at)
        missing = sorted(set(stored) - self.seen)
        if not self.records:
            # An empty answer is more likely a fault than every record deleted at once: it
            # tells nothing, neither what is gone nor which problems are settled.
            if missing:
                log.warning(
                    "%s %s: a complete read found no records; %d stored ones kept, not marked gone",
                    connector,
                    entity,
                    len(missing),
                )
            return report
        links = tx.links.find((connector, entity, e) for e in missing)
        gone = mark_deleted(
            tx, self.mapping, links, missing, mapping_version=version, run_id=run_id, inbox=inbox
        )
        report.deleted = len(gone)
        report.problems = tx.source_errors.settle_located(connector, entity, self.started_at)
        return report
