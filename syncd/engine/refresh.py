"""Refresh: re-read given source records (or a whole entity) on request and reconcile them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syncd.connector import Capability, Connector, SourceRecord
from syncd.engine.context import StepContext
from syncd.engine.ingest import OnCommit, PageIngest, ingest_records
from syncd.engine.report import SyncReport
from syncd.engine.snapshot import Snapshot, is_complete_read
from syncd.mapping.apply import EntityMapping
from syncd.store.store import Store


class Refresh:
    """Re-reads what webhooks or a push's read-before-write ask for, and stores it."""

    def __init__(self, store: Store, context: StepContext, ingest: PageIngest) -> None:
        self.store, self.context, self.ingest = store, context, ingest

    def run(
        self,
        connector_name: str,
        entity: str,
        external_ids: Sequence[str] | None,
        *,
        deliveries: Sequence[bytes] = (),
        on_commit: OnCommit | None = None,
        inbox: Sequence[int] = (),
    ) -> SyncReport:
        """Re-read given source records (all of the entity when None) and reconcile them.

        `deliveries`: the stored webhook bodies that asked for it. Where the tool's
        deliveries carry the changed values, a record they fully account for is taken from
        them (its stored data plus the changes) instead of being re-read: one call fewer
        per round, on the tool's budget; where they name the part of an entity that changed
        (a sheet's edited rows), a whole-entity refresh reads just that. `on_commit` runs
        inside the last transaction that stores the effects, so whoever asked (a job, inbox
        deliveries) is marked done exactly when the effects are stored. `inbox`: the stored
        deliveries that asked for it, read only to say who deleted or restored a record.
        """
        connector = self.context.connectors[connector_name]
        mapping = self.context.rules.mappings.entity(connector_name, entity)
        if external_ids is not None:
            wanted = list(dict.fromkeys(external_ids))
            return self._records(connector, mapping, wanted, deliveries, on_commit, inbox)
        if deliveries and Capability.FETCH_DELIVERED in connector.capabilities:
            # The deliveries may name the part that changed (a sheet's edited rows).
            part = connector.fetch_delivered(entity, deliveries, fields=mapping.source_paths())
            if part is not None:
                return self.ingest.store_page(
                    connector_name, entity, part, on_commit=on_commit, inbox=inbox
                )
        report = SyncReport()
        with self.store.transaction() as tx:
            cursor = tx.cursors.get(connector_name, entity)
            started_at = tx.now
        complete = is_complete_read(connector, cursor)
        snapshot = Snapshot(mapping, started_at) if complete else None
        for batch in connector.pull(entity, cursor, fields=mapping.source_paths()):
            report.add(
                self.ingest.store_page(
                    connector_name, entity, batch.records, cursor=batch.cursor, inbox=inbox
                )
            )
            if snapshot is not None:
                snapshot.saw(batch.records)
        if snapshot is not None:  # a whole read: what it lacks is gone (a deleted row)
            report.add(self.ingest.finish_snapshot(snapshot, on_commit=on_commit, inbox=inbox))
        elif on_commit is not None:
            with self.store.transaction() as tx:
                on_commit(tx)
        return report

    def _records(
        self,
        connector: Connector,
        mapping: EntityMapping,
        wanted: list[str],
        deliveries: Sequence[bytes],
        on_commit: OnCommit | None,
        inbox: Sequence[int],
    ) -> SyncReport:
        entity, paths = mapping.entity, mapping.source_paths()
        stored: dict[str, dict[str, Any]] = {}
        told: dict[str, dict[str, Any]] = {}
        if deliveries and Capability.WEBHOOK_VALUES in connector.capabilities:
            with self.store.snapshot() as tx:  # a first look, without the write lock
                stored = tx.links.current_data(connector.name, entity, wanted)
            told = connector.apply_deliveries(entity, stored, deliveries, fields=paths)
        rest = [e for e in wanted if e not in told]
        records = connector.fetch(entity, rest, fields=paths) if rest else []
        while True:
            with self.store.transaction(dry_run=self.context.dry_run) as tx:
                tx.serialize_writers()
                # Under the write lock: what was applied holds only while the stored data it
                # was applied to is still there (a lane that wrote to one of these since
                # cleared it: the tool holds something else).
                now = tx.links.current_data(connector.name, entity, sorted(told))
                stale = {e for e in told if now.get(e) != stored.get(e)}
                if not stale:
                    page = records + [
                        SourceRecord(entity=entity, data=data, external_id=external_id)
                        for external_id, data in told.items()
                    ]
                    rules = self.context.rules
                    report = ingest_records(tx, rules, mapping, page, None, inbox=inbox)
                    report.from_deliveries = len(told)
                    if on_commit is not None:
                        on_commit(tx)
                    return report
            # Nothing was written: read those instead, and store all at once.
            told = {e: data for e, data in told.items() if e not in stale}
            records += connector.fetch(entity, sorted(stale), fields=paths)
