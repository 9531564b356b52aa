"""Pull: read a connector's pages (a page ahead) from its cursors and store each in its turn."""

from __future__ import annotations

import logging
from collections.abc import Callable

from syncd.connector import Capability, Connector
from syncd.engine.context import StepContext
from syncd.engine.ingest import PageIngest
from syncd.engine.prefetch import Prefetch
from syncd.engine.report import SyncReport
from syncd.engine.runs import RunLog
from syncd.engine.snapshot import Snapshot, is_complete_read
from syncd.engine.turns import StoreTurns
from syncd.errors import ConnectorError
from syncd.mapping.apply import EntityMapping
from syncd.store.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[str, str, int], None]  # connector, entity, records pulled so far


class Pull:
    """Pulls connectors: people first, then every mapped entity from its cursor."""

    def __init__(
        self,
        store: Store,
        context: StepContext,
        ingest: PageIngest,
        runs: RunLog,
        turns: StoreTurns,
    ) -> None:
        self.store, self.context, self.ingest, self.runs = store, context, ingest, runs
        # Pulls running at once (the tools read side by side) store their pages one at a
        # time, smallest first: pages stored by three threads at once cost more CPU, and
        # held up the reader with the most calls to make (see StoreTurns).
        self._turns = turns

    def run(
        self, connector: Connector, *, full: bool = False, progress: Progress | None = None
    ) -> SyncReport:
        """Pull every mapped entity of one connector; failures are recorded, not raised."""
        report = SyncReport()
        run_id = self.runs.start(connector.name)
        try:
            self.refresh_people(connector)
            for mapping in self.context.rules.mappings.for_connector(connector.name):
                report.add(self._entity(connector, mapping, run_id, full, progress))
        except ConnectorError as exc:
            log.error("sync of %s failed: %s", connector.name, exc)
            report.errors.append(str(exc))
        except Exception as exc:  # the run boundary: record it, keep the other connectors going
            log.exception("sync of %s failed unexpectedly", connector.name)
            report.errors.append(f"[{connector.name}] unexpected error: {exc!r}")
        self.runs.finish(run_id, report)
        return report

    def refresh_people(self, connector: Connector) -> None:
        """Learn the tool's users (id -> email), when the connector can list them."""
        if Capability.PEOPLE not in connector.capabilities:
            return
        people = [(p.user_id, p.email, p.display_name) for p in connector.people()]
        with self.store.transaction(dry_run=self.context.dry_run) as tx:
            tx.identities.save(connector.name, people)

    def _entity(
        self,
        connector: Connector,
        mapping: EntityMapping,
        run_id: str,
        full: bool,
        progress: Progress | None,
    ) -> SyncReport:
        report = SyncReport()
        with self.store.transaction() as tx:
            cursor = None if full else tx.cursors.get(connector.name, mapping.entity)
            started_at = tx.now
        complete = is_complete_read(connector, cursor)
        snapshot = Snapshot(mapping, started_at) if complete else None
        pages = connector.pull(mapping.entity, cursor, fields=mapping.source_paths())
        line = self._turns.line()
        try:
            read = Prefetch(
                pages,
                name=f"read-{connector.name}",
                on_read=lambda batch: line.arrived(len(batch.records)),
            )
            for batch in read:
                with line.turn():
                    stored = self.ingest.store_page(
                        connector.name,
                        mapping.entity,
                        batch.records,
                        cursor=batch.cursor,
                        run_id=run_id,
                    )
                report.add(stored)
                if snapshot is not None:
                    snapshot.saw(batch.records)
                if progress:
                    progress(connector.name, mapping.entity, report.pulled)
        finally:
            line.close()
        if snapshot is not None:  # every page read and stored: what it lacks is gone
            report.add(self.ingest.finish_snapshot(snapshot, run_id=run_id))
        return report
