"""The engine: composes the steps of a sync (pull, ingest, refresh, push) over one store."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from syncd.connector import Connector, SourceRecord
from syncd.engine.context import Rules, StepContext
from syncd.engine.decisions import resolve_conflict
from syncd.engine.ingest import OnCommit, PageIngest
from syncd.engine.plan import WriteRecorder
from syncd.engine.pull import Progress, Pull
from syncd.engine.push import Push
from syncd.engine.refresh import Refresh
from syncd.engine.report import SyncReport
from syncd.engine.runs import RunLog
from syncd.engine.status import connector_status
from syncd.engine.turns import StoreTurns
from syncd.mapping.load import MappingSet
from syncd.model import JsonValue
from syncd.store.store import Store


class Engine:
    """Runs syncs over the configured connectors with the loaded mappings."""

    def __init__(
        self,
        store: Store,
        connectors: Mapping[str, Connector],
        mappings: MappingSet,
        *,
        dry_run: bool = False,
        recorder: WriteRecorder | None = None,
    ) -> None:
        self.store, self.connectors = store, dict(connectors)
        # `dry_run` rolls every transaction back and writes nothing anywhere (each page on
        # its own: see `dry_run.py` for the dry run that lists what a sync would do, which
        # runs on a scratch copy of the store with a `recorder` for the writes).
        self._context = StepContext(
            self.connectors, Rules.build(mappings, self.connectors), dry_run, recorder
        )
        self._ingest = PageIngest(store, self._context)
        self._refresh = Refresh(store, self._context, self._ingest)
        self._pull = Pull(
            store, self._context, self._ingest, RunLog(store, self._context), StoreTurns()
        )
        self._push = Push(store, self._context, self._refresh)

    @property
    def mappings(self) -> MappingSet:
        """The mapping version in force."""
        return self._context.rules.mappings

    @property
    def dry_run(self) -> bool:
        """Whether runs roll every transaction back and write nothing to the tools."""
        return self._context.dry_run

    @dry_run.setter
    def dry_run(self, value: bool) -> None:
        self._context.dry_run = value

    def set_mappings(self, mappings: MappingSet) -> None:
        """Use another mapping version from now on (hot reload)."""
        self._context.rules = Rules.build(mappings, self.connectors)

    # -- pulling ---------------------------------------------------------------------------

    def sync(
        self,
        *,
        only: Sequence[str] | None = None,
        full: bool = False,
        push: bool = True,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Pull every configured connector (incrementally unless `full`), then push."""
        report = SyncReport()
        chosen = [c for n, c in self.connectors.items() if not only or n in only]
        # The tools are independent: read them at the same time (their pages are stored one
        # at a time all the same, see `StoreTurns`).
        with ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix="pull") as pool:
            futures = [
                pool.submit(self.pull_connector, c, full=full, progress=progress) for c in chosen
            ]
            for future in futures:
                report.add(future.result())
        if push:
            for name in self.connectors:
                report.add(self.drain(name))
        return report

    def drain(self, connector_name: str, *, rounds: int = 1000) -> SyncReport:
        """Push until the connector's outbox has nothing due (retries wait for their time)."""
        report = SyncReport()
        for _ in range(rounds):
            step = self.push_pending(connector_name)
            report.add(step)
            if not step.pushed and not step.push_rejected:
                break
        return report

    def pull_connector(
        self, connector: Connector, *, full: bool = False, progress: Progress | None = None
    ) -> SyncReport:
        """Pull every mapped entity of one connector; failures are recorded, not raised."""
        return self._pull.run(connector, full=full, progress=progress)

    def refresh_people(self, connector: Connector) -> None:
        """Learn the tool's users (id -> email), when the connector can list them."""
        self._pull.refresh_people(connector)

    def refresh(
        self,
        connector_name: str,
        entity: str,
        external_ids: Sequence[str] | None,
        *,
        deliveries: Sequence[bytes] = (),
        on_commit: OnCommit | None = None,
        inbox: Sequence[int] = (),
    ) -> SyncReport:
        """Re-read given source records (all of the entity when None) and reconcile them
        (see `Refresh.run`)."""
        return self._refresh.run(
            connector_name,
            entity,
            external_ids,
            deliveries=deliveries,
            on_commit=on_commit,
            inbox=inbox,
        )

    def ingest(
        self,
        connector: str,
        entity: str,
        records: Sequence[SourceRecord],
        *,
        cursor: str | None = None,
        keep_cursor: bool | None = None,
        run_id: str | None = None,
        on_commit: OnCommit | None = None,
    ) -> SyncReport:
        """Store one page of source records, and the cursor after it, in one transaction."""
        return self._ingest.store_page(
            connector,
            entity,
            records,
            cursor=cursor,
            keep_cursor=keep_cursor,
            run_id=run_id,
            on_commit=on_commit,
        )

    # -- pushing ---------------------------------------------------------------------------

    def push_pending(
        self,
        connector_name: str,
        *,
        limit: int = 500,
        records: Collection[str] | None = None,
        wait: bool = True,
    ) -> SyncReport:
        """Write what the outbox holds for one connector (see `Push.run`)."""
        return self._push.run(connector_name, limit=limit, records=records, wait=wait)

    # -- people's decisions and status -------------------------------------------------------

    def resolve_conflict(self, record_id: str, field_name: str, value: JsonValue, by: str) -> None:
        """Settle a conflict (or set a field by hand) and queue the value for every source."""
        resolve_conflict(self.store, self._context.rules, record_id, field_name, value, by)

    def status(self) -> list[dict[str, object]]:
        """Per connector: cursor per entity, last run, last success, outbox depth."""
        return connector_status(self.store, self.connectors, self.mappings)
