"""Run bookkeeping: a row per connector run, opened when it starts and closed with its counts."""

from __future__ import annotations

import uuid

from syncd.engine.context import StepContext
from syncd.engine.report import SyncReport
from syncd.store.store import Store


class RunLog:
    """Records each connector run (`sync_runs`) in the store."""

    def __init__(self, store: Store, context: StepContext) -> None:
        self.store, self.context = store, context

    def start(self, connector: str) -> str:
        """Open a run for `connector`; returns its id."""
        run_id = str(uuid.uuid4())
        with self.store.transaction(dry_run=self.context.dry_run) as tx:
            tx.runs.start(run_id, connector)
        return run_id

    def finish(self, run_id: str, report: SyncReport) -> None:
        """Close a run with what it did (failed when it has errors)."""
        with self.store.transaction(dry_run=self.context.dry_run) as tx:
            tx.runs.finish(
                run_id,
                status="failed" if report.errors else "ok",
                pulled=report.pulled,
                changed=report.changed_fields,
                errors=len(report.errors),
                message="; ".join(report.errors)[:2000] or None,
            )
