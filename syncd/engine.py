"""One sync: pull -> map -> reconcile -> store (one transaction per page) -> push the outbox.

The engine is the only place that catches broadly: a connector that fails is recorded and
logged with its name, its cursor stays where the last stored page left it, and the other
connectors go on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from syncd.connector import Capability, Connector, PushItem, SourceRecord
from syncd.derive import derive
from syncd.errors import AuthError, ConnectorError, TransientError
from syncd.jsontext import digest_bytes
from syncd.mapping.apply import EntityMapping, Pulled
from syncd.mapping.load import MappingSet
from syncd.model import JsonValue, RecordKind
from syncd.prefetch import Prefetch
from syncd.reconcile import (
    FieldPolicy,
    Incoming,
    LinkKey,
    LinkView,
    Outcome,
    RecordView,
    apply_outcome,
    reconcile,
    resolve,
)
from syncd.store import tables as t
from syncd.store.store import LinkRow, OutboxRow, OutboxStage, Store, Tx, new_record_id
from syncd.turns import StoreTurns

log = logging.getLogger(__name__)

PUSH_RETRY_BASE = timedelta(seconds=30)
PUSH_MAX_ATTEMPTS = 8


@dataclass
class SyncReport:
    """What a sync did, summed over connectors."""

    pulled: int = 0
    skipped: int = 0  # re-read with unchanged content (overlap windows, echoes)
    created: int = 0
    changed_fields: int = 0
    conflicts_opened: int = 0
    pushed: int = 0
    push_rejected: int = 0
    from_deliveries: int = 0  # records taken from webhook values instead of re-read
    errors: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # records whose writes were queued

    def add(self, other: SyncReport) -> None:
        """Add another report's counts to this one."""
        self.touched |= other.touched
        for name in (
            "pulled",
            "skipped",
            "created",
            "changed_fields",
            "conflicts_opened",
            "pushed",
            "push_rejected",
            "from_deliveries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


Progress = Callable[[str, str, int], None]  # connector, entity, records pulled so far
OnCommit = Callable[[Tx], None]


def _digest(value: Any) -> str:
    return hashlib.sha256(digest_bytes(value)).hexdigest()


def _raw_hash(basis: str, data: Mapping[str, Any]) -> str:
    """What a source record said, under a mapping and people directory (row position aside:
    a sheet row moving changes nothing)."""
    content = dict(data)  # a row's number is `SourceRecord.row`, never part of its data
    return _digest([basis, content])


class Engine:
    """Runs syncs over the configured connectors with the loaded mappings."""

    def __init__(
        self,
        store: Store,
        connectors: Mapping[str, Connector],
        mappings: MappingSet,
        *,
        dry_run: bool = False,
    ) -> None:
        self.store, self.connectors = store, dict(connectors)
        # One writer per tool at a time in this process: two workers pushing the same
        # pending write at once would send it twice.
        self._push_locks = {name: threading.Lock() for name in self.connectors}
        # Pulls running at once (the tools read side by side) store their pages one at a
        # time, smallest first: pages stored by three threads at once cost more CPU, and
        # held up the reader with the most calls to make (see StoreTurns).
        self._turns = StoreTurns()
        # A dry run reads the tools and reconciles, then rolls every transaction back and
        # writes nothing anywhere: the report says what a real run would do.
        self.dry_run = dry_run
        self.set_mappings(mappings)

    def set_mappings(self, mappings: MappingSet) -> None:
        """Use another mapping version from now on (hot reload)."""
        self.mappings = mappings
        self._policies: dict[RecordKind, dict[str, FieldPolicy]] = defaultdict(dict)
        for (connector, _), em in mappings.entities.items():
            for key, spec in em.spec.fields.items():
                name = spec.field or key
                current = self._policies[em.kind].get(name)
                owner = connector if spec.owner else (current.owner if current else None)
                self._policies[em.kind][name] = FieldPolicy(spec.policy, owner)

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
        # at a time all the same, see `_turns`).
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
        report = SyncReport()
        run_id = self._start_run(connector.name)
        try:
            self.refresh_people(connector)
            for mapping in self.mappings.for_connector(connector.name):
                report.add(self._pull_entity(connector, mapping, run_id, full, progress))
        except ConnectorError as exc:
            log.error("sync of %s failed: %s", connector.name, exc)
            report.errors.append(str(exc))
        except Exception as exc:  # the run boundary: record it, keep the other connectors going
            log.exception("sync of %s failed unexpectedly", connector.name)
            report.errors.append(f"[{connector.name}] unexpected error: {exc!r}")
        self._finish_run(run_id, report)
        return report

    def refresh_people(self, connector: Connector) -> None:
        """Learn the tool's users (id -> email), when the connector can list them."""
        if Capability.PEOPLE not in connector.capabilities:
            return
        people = [(p.user_id, p.email, p.display_name) for p in connector.people()]
        with self.store.transaction(dry_run=self.dry_run) as tx:
            tx.save_identities(connector.name, people)

    def _pull_entity(
        self,
        connector: Connector,
        mapping: EntityMapping,
        run_id: str,
        full: bool,
        progress: Progress | None,
    ) -> SyncReport:
        report = SyncReport()
        with self.store.transaction() as tx:
            cursor = None if full else tx.get_cursor(connector.name, mapping.entity)
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
                    stored = self.ingest(
                        connector.name,
                        mapping.entity,
                        batch.records,
                        cursor=batch.cursor,
                        run_id=run_id,
                    )
                report.add(stored)
                if progress:
                    progress(connector.name, mapping.entity, report.pulled)
        finally:
            line.close()
        return report

    def refresh(
        self,
        connector_name: str,
        entity: str,
        external_ids: Sequence[str] | None,
        *,
        deliveries: Sequence[bytes] = (),
        on_commit: OnCommit | None = None,
    ) -> SyncReport:
        """Re-read given source records (all of the entity when None) and reconcile them.

        `deliveries`: the stored webhook bodies that asked for it. Where the tool's
        deliveries carry the changed values, a record they fully account for is taken from
        them (its stored data plus the changes) instead of being re-read: one call fewer
        per round, on the tool's budget; where they name the part of an entity that changed
        (a sheet's edited rows), a whole-entity refresh reads just that. `on_commit` runs
        inside the last transaction that stores the effects, so whoever asked (a job, inbox
        deliveries) is marked done exactly when the effects are stored.
        """
        connector = self.connectors[connector_name]
        mapping = self.mappings.entity(connector_name, entity)
        if external_ids is not None:
            return self._refresh_records(
                connector, mapping, list(dict.fromkeys(external_ids)), deliveries, on_commit
            )
        if deliveries and Capability.FETCH_DELIVERED in connector.capabilities:
            # The deliveries may name the part that changed (a sheet's edited rows).
            part = connector.fetch_delivered(entity, deliveries, fields=mapping.source_paths())
            if part is not None:
                return self.ingest(connector_name, entity, part, on_commit=on_commit)
        report = SyncReport()
        with self.store.transaction() as tx:
            cursor = tx.get_cursor(connector_name, entity)
        for batch in connector.pull(entity, cursor, fields=mapping.source_paths()):
            report.add(self.ingest(connector_name, entity, batch.records, cursor=batch.cursor))
        if on_commit is not None:
            with self.store.transaction() as tx:
                on_commit(tx)
        return report

    def _refresh_records(
        self,
        connector: Connector,
        mapping: EntityMapping,
        wanted: list[str],
        deliveries: Sequence[bytes],
        on_commit: OnCommit | None,
    ) -> SyncReport:
        entity, paths = mapping.entity, mapping.source_paths()
        stored: dict[str, dict[str, Any]] = {}
        told: dict[str, dict[str, Any]] = {}
        if deliveries and Capability.WEBHOOK_VALUES in connector.capabilities:
            with self.store.snapshot() as tx:  # a first look, without the write lock
                stored = tx.current_source_data(connector.name, entity, wanted)
            told = connector.apply_deliveries(entity, stored, deliveries, fields=paths)
        rest = [e for e in wanted if e not in told]
        records = connector.fetch(entity, rest, fields=paths) if rest else []
        while True:
            with self.store.transaction(dry_run=self.dry_run) as tx:
                tx.serialize_writers()
                # Under the write lock: what was applied holds only while the stored data it
                # was applied to is still there (a lane that wrote to one of these since
                # cleared it: the tool holds something else).
                now = tx.current_source_data(connector.name, entity, sorted(told))
                stale = {e for e in told if now.get(e) != stored.get(e)}
                if not stale:
                    page = records + [
                        SourceRecord(entity=entity, data=data, external_id=external_id)
                        for external_id, data in told.items()
                    ]
                    report = _BatchIngest(self, tx, mapping, None).run(page)
                    report.from_deliveries = len(told)
                    if on_commit is not None:
                        on_commit(tx)
                    return report
            # Nothing was written: read those instead, and store all at once.
            told = {e: data for e, data in told.items() if e not in stale}
            records += connector.fetch(entity, sorted(stale), fields=paths)

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
        mapping = self.mappings.entity(connector, entity)
        with self.store.transaction(dry_run=self.dry_run) as tx:
            report = _BatchIngest(self, tx, mapping, run_id).run(records)
            if keep_cursor is None:
                keep_cursor = cursor is None
            if not keep_cursor:
                tx.set_cursor(connector, entity, cursor)
            if on_commit is not None:
                on_commit(tx)
        return report

    # -- pushing ---------------------------------------------------------------------------

    def push_pending(
        self,
        connector_name: str,
        *,
        limit: int = 500,
        records: Collection[str] | None = None,
        wait: bool = True,
    ) -> SyncReport:
        """Write what the outbox holds for one connector; retries are scheduled, not slept.

        With `records`, only those records' writes: what a webhook just changed goes out
        ahead of a backlog (e.g. the first sync's write-backs). With `wait=False`, nothing
        is done while another thread writes to this tool (for opportunistic backlog work).
        """
        connector = self.connectors.get(connector_name)
        if self.dry_run or connector is None or Capability.PUSH not in connector.capabilities:
            return SyncReport()
        # Nothing due: say so without queueing behind another thread's writes to this tool
        # (a lane's round would otherwise wait out another lane's read-before-write).
        with self.store.snapshot() as tx:
            if not tx.due_pushes(connector_name, 1, records=records):
                return SyncReport()
        lock = self._push_locks[connector_name]
        if not lock.acquire(blocking=wait):
            return SyncReport()
        try:
            return self._push_pending(connector_name, connector, limit, records)
        finally:
            lock.release()

    def _push_pending(
        self,
        connector_name: str,
        connector: Connector,
        limit: int,
        records: Collection[str] | None,
    ) -> SyncReport:
        report = SyncReport()
        with self.store.transaction() as tx:
            rows = tx.due_pushes(connector_name, limit, records=records)
            people = tx.people(connector_name)
        by_entity = defaultdict(list)
        for row in rows:
            by_entity[row.entity].append(row)
        for entity, entity_rows in by_entity.items():
            mapping = self.mappings.entities.get((connector_name, entity))
            if mapping is None:
                continue
            if Capability.FETCH in connector.capabilities:
                try:
                    entity_rows = self._read_before_write(connector_name, entity, entity_rows)
                except ConnectorError as exc:
                    self._fail_rows(entity_rows, str(exc), transient=not isinstance(exc, AuthError))
                    report.errors.append(str(exc))
                    continue
            items: list[PushItem] = []
            sent: dict[str, tuple[OutboxRow, dict[str, JsonValue]]] = {}
            with self.store.transaction() as tx:
                for row in entity_rows:
                    payload, issues = mapping.push(row.fields, people)
                    for issue in issues:
                        tx.add_source_error(
                            connector_name,
                            entity,
                            row.external_id,
                            f"cannot write {issue.field}: {issue.reason}",
                            field=issue.field,
                        )
                    bad = {issue.field for issue in issues}
                    if bad:
                        tx.cancel_push((connector_name, entity, row.external_id), bad)
                    fields = {k: v for k, v in row.fields.items() if k not in bad}
                    if payload and fields:
                        items.append(PushItem(external_id=row.external_id, payload=payload))
                        sent[row.external_id] = (row, fields)
            if not items:
                continue
            try:
                result = connector.push(entity, items)
            except TransientError as exc:
                self._fail_rows([r for r, _ in sent.values()], str(exc), transient=True)
                report.errors.append(str(exc))
                continue
            except ConnectorError as exc:
                self._fail_rows(
                    [r for r, _ in sent.values()],
                    str(exc),
                    transient=not isinstance(exc, AuthError),
                )
                report.errors.append(str(exc))
                continue
            report.pushed += len(result.written)
            report.push_rejected += len(result.rejected)
            self._record_push(connector_name, entity, sent, result.written, result.rejected)
        return report

    def _read_before_write(
        self, connector: str, entity: str, rows: Sequence[OutboxRow]
    ) -> list[OutboxRow]:
        """Read-compare-write: the tools have no conditional writes, so re-read the targets
        first (one fetch for the batch). A change a person made there since syncd last read
        it is reconciled, kept or held as a conflict, instead of being overwritten; what is
        still to be written is returned."""
        self.refresh(connector, entity, [row.external_id for row in rows])
        with self.store.transaction() as tx:
            fresh = tx.pending_pushes((connector, entity, row.external_id) for row in rows)
        return [
            fresh[row_key]
            for row_key in ((connector, entity, r.external_id) for r in rows)
            if row_key in fresh
        ]

    def _record_push(
        self,
        connector: str,
        entity: str,
        sent: Mapping[str, tuple[OutboxRow, dict[str, JsonValue]]],
        written: Iterable[str],
        rejected: Mapping[str, str],
    ) -> None:
        with self.store.transaction() as tx:
            tx.serialize_writers()
            written = list(written)
            links = tx.find_links((connector, entity, ext) for ext in written)
            for external_id in written:
                row, fields = sent[external_id]
                tx.complete_push(row.id, fields)
                link = links.get((connector, entity, external_id))
                if link is not None:
                    # The source now holds what we wrote: its echo will be a no-op. Its
                    # content changed, so the last content hash no longer describes it.
                    link.bases.update(fields)
                    link.content_hash = None
            tx.save_links(links.values(), {})
            for external_id, reason in rejected.items():
                row, _ = sent[external_id]
                tx.fail_push(row.id, reason, retry_in=None)
                tx.add_source_error(connector, entity, external_id, f"write refused: {reason}")

    def _fail_rows(self, rows: Sequence[OutboxRow], error: str, *, transient: bool) -> None:
        with self.store.transaction() as tx:
            for row in rows:
                retry = PUSH_RETRY_BASE * (2 ** min(row.attempts, 6))
                give_up = not transient or row.attempts + 1 >= PUSH_MAX_ATTEMPTS
                tx.fail_push(row.id, error, retry_in=None if give_up else retry)

    # -- people's decisions -------------------------------------------------------------------

    def resolve_conflict(self, record_id: str, field_name: str, value: JsonValue, by: str) -> None:
        """Settle a conflict (or set a field by hand) and queue the value for every source."""
        with self.store.transaction() as tx:
            tx.serialize_writers()
            record = tx.load_records([record_id])[record_id]
            views = self._link_views(tx.links_of([record_id]).get(record_id, []))
            outcome = resolve(record, views, field_name, value, by)
            tx.add_audit(
                record_id, outcome.changes, mapping_version=self.mappings.version, run_id=None
            )
            outbox = OutboxStage(tx, tx.pending_pushes(v.key for v in views))
            _store_outcome(tx, record_id, outcome, outbox)
            outbox.flush()
            apply_outcome(record, views, outcome)
            tx.save_records({record_id: record})

    # -- helpers ------------------------------------------------------------------------------

    def _link_views(self, rows: Iterable[LinkRow]) -> list[LinkView]:
        views = []
        for row in rows:
            if row.placeholder or row.deleted:
                continue  # never seen, or gone: nothing to compare with or write to
            mapping = self.mappings.entities.get((row.connector, row.entity))
            pulls = mapping.pulled if mapping else frozenset()
            pushes = mapping.pushed if mapping else frozenset()
            if row.connector not in self.connectors:
                pushes = frozenset()
            views.append(
                LinkView(row.connector, row.entity, row.external_id, row.bases, pulls, pushes)
            )
        return views

    def _start_run(self, connector: str) -> str:
        run_id = str(uuid.uuid4())
        with self.store.transaction(dry_run=self.dry_run) as tx:
            tx.conn.execute(
                t.sync_runs.insert().values(
                    id=run_id,
                    connector=connector,
                    started_at=tx.now,
                    status="running",
                    pulled=0,
                    changed=0,
                    pushed=0,
                    errors=0,
                )
            )
        return run_id

    def _finish_run(self, run_id: str, report: SyncReport) -> None:
        with self.store.transaction(dry_run=self.dry_run) as tx:
            tx.conn.execute(
                t.sync_runs.update()
                .where(t.sync_runs.c.id == run_id)
                .values(
                    finished_at=tx.now,
                    status="failed" if report.errors else "ok",
                    pulled=report.pulled,
                    changed=report.changed_fields,
                    errors=len(report.errors),
                    message="; ".join(report.errors)[:2000] or None,
                )
            )

    def status(self) -> list[dict[str, object]]:
        """Per connector: cursor per entity, last run, last success, outbox depth."""
        out = []
        with self.store.transaction() as tx:
            depth = tx.outbox_depth()
            for name in self.connectors:
                runs = tx.conn.execute(
                    sa.select(t.sync_runs)
                    .where(t.sync_runs.c.connector == name)
                    .order_by(t.sync_runs.c.started_at.desc())
                    .limit(20)
                ).all()
                last_ok = next((r for r in runs if r.status == "ok"), None)
                out.append(
                    {
                        "connector": name,
                        "cursors": {
                            m.entity: tx.get_cursor(name, m.entity)
                            for m in self.mappings.for_connector(name)
                        },
                        "last_run": runs[0].status if runs else None,
                        "last_success": last_ok.finished_at if last_ok else None,
                        "last_error": next((r.message for r in runs if r.status == "failed"), None),
                        "outbox": depth.get(name, 0),
                    }
                )
        return out


class _BatchIngest:
    """Ingest of one page inside one transaction, with the page's links and records prefetched."""

    def __init__(self, engine: Engine, tx: Tx, mapping: EntityMapping, run_id: str | None):
        self.engine, self.tx, self.mapping, self.run_id = engine, tx, mapping, run_id
        self.connector, self.entity = mapping.connector, mapping.entity
        self.report = SyncReport()
        self.source_data: dict[str, dict[str, Any]] = {}
        self.new_records: set[str] = set()
        self.data_stored: set[LinkKey] = set()  # links inserted with their source data

    def run(self, records: Sequence[SourceRecord]) -> SyncReport:
        tx, mapping = self.tx, self.mapping
        tx.serialize_writers()
        people = tx.people(self.connector)
        # A source record whose raw content, mapping and people directory are all as last
        # time cannot change anything: it is skipped before it is even translated (overlap
        # re-reads, a whole tab re-read for a one-cell edit).
        basis = f"{self.engine.mappings.version}:{_digest(sorted(people.items()))}"
        candidates: list[tuple[SourceRecord, str, str]] = []
        deleted: list[str] = []
        for record in records:
            self.report.pulled += 1
            if record.deleted:
                if record.external_id:
                    deleted.append(record.external_id)
                continue
            problem = record.problem
            if problem:
                # The connector could read the row but not use it (no key, a duplicate key):
                # report it with its place; the other rows go on.
                self._source_error(record, str(problem))
                continue
            try:
                external_id = mapping.external_id(record.data)
            except ValueError as exc:
                self._source_error(record, str(exc))
                continue
            candidates.append((record, external_id, _raw_hash(basis, record.data)))
        source = (self.connector, self.entity)
        hashes = tx.live_content_hashes((*source, ext) for _, ext, _ in candidates)
        changed = [
            (record, ext, raw_hash)
            for record, ext, raw_hash in candidates
            if hashes.get((*source, ext)) != raw_hash
        ]
        self.report.skipped += len(candidates) - len(changed)
        keys: set[LinkKey] = {(*source, ext) for _, ext, _ in changed}
        keys |= {(*source, ext) for ext in deleted}
        links = tx.find_links(keys)
        pulled: list[tuple[Pulled, str]] = []
        for record, _, raw_hash in changed:
            try:
                translated = mapping.pull(record.data, people)
            except ValueError as exc:
                self._source_error(record, str(exc))
                continue
            pulled.append((translated, raw_hash))
            self.source_data[translated.external_id] = record.data
        refs = {(ln.connector, ln.entity, ln.external_id) for p, _ in pulled for ln in p.links}
        links.update(tx.find_links(refs - set(links)))
        self._mark_deleted(links, deleted)
        work = self._attach(pulled, links)
        if not work:
            return self.report
        record_ids = {links[key].record_id for _, key, _ in work}
        views = tx.load_records(record_ids - self.new_records)
        views.update({rid: RecordView(kind=mapping.kind) for rid in self.new_records})
        rows = tx.links_of(record_ids)
        by_key = {row.key: row for rs in rows.values() for row in rs}
        pending = tx.pending_pushes(by_key) if len(self.new_records) < len(record_ids) else {}
        outbox = OutboxStage(tx, pending)
        audit: list[dict[str, Any]] = []
        dirty_records: dict[str, RecordView] = {}
        source_times = {}
        policies = self.engine._policies[mapping.kind]
        version = self.engine.mappings.version
        for p, key, content_hash in work:
            row = by_key[key]
            view = views[row.record_id]
            link_views = self.engine._link_views(rows[row.record_id])
            incoming = Incoming(
                self.connector, self.entity, p.external_id, p.values, p.updated_at, p.issues
            )
            outcome = reconcile(view, link_views, incoming, policies)
            audit += tx.audit_rows(
                row.record_id, outcome.changes, mapping_version=version, run_id=self.run_id
            )
            _store_outcome(tx, row.record_id, outcome, outbox)
            apply_outcome(view, link_views, outcome)
            derived = derive(view, link_views, tx.now)
            if not derived.empty:
                audit += tx.audit_rows(
                    row.record_id, derived.changes, mapping_version=version, run_id=self.run_id
                )
                _store_outcome(tx, row.record_id, derived, outbox)
                apply_outcome(view, link_views, derived)
                dirty_records[row.record_id] = view
            row.content_hash = content_hash
            if p.updated_at:
                source_times[row.id] = p.updated_at
            if not outcome.empty:
                dirty_records[row.record_id] = view
            if outcome.pushes or derived.pushes:
                self.report.touched.add(row.record_id)
            self.report.changed_fields += len(outcome.changes)
            self.report.conflicts_opened += len(outcome.opened)
        outbox.flush()
        tx.insert_audit(audit)
        tx.save_records(dirty_records)
        # Links inserted by this page already hold their source data; the others get it now.
        holding: list[LinkRow] = []
        missing: list[LinkRow] = []
        for _, key, _ in work:
            (holding if key in self.data_stored else missing).append(by_key[key])
        tx.save_links(holding, source_times)
        tx.save_links(
            missing, source_times, {row.id: self.source_data[row.external_id] for row in missing}
        )
        return self.report

    def _source_error(self, record: SourceRecord, message: str) -> None:
        row = record.row
        self.tx.add_source_error(
            self.connector,
            self.entity,
            record.external_id,
            message,
            location=f"{self.entity} row {row}" if row is not None else None,
        )

    def _mark_deleted(self, links: dict[LinkKey, LinkRow], deleted: Sequence[str]) -> None:
        gone = [links[k] for k in ((self.connector, self.entity, e) for e in deleted) if k in links]
        for row in gone:
            row.deleted = True
        self.tx.save_links(gone, {})

    def _attach(
        self, pulled: Sequence[tuple[Pulled, str]], links: dict[LinkKey, LinkRow]
    ) -> list[tuple[Pulled, LinkKey, str]]:
        """Find or create each source record's link and record; join records links say are one.

        New records and links are staged and inserted together (a page at a time).
        """
        tx, work = self.tx, []
        staged_records: list[tuple[str, RecordKind]] = []
        staged_links: dict[LinkKey, tuple[str, bool]] = {}
        revived: list[LinkRow] = []

        def record_of(key: LinkKey) -> str | None:
            if key in links:
                return links[key].record_id
            staged = staged_links.get(key)
            return staged[0] if staged else None

        def flush() -> None:
            tx.insert_records(staged_records)
            read = {
                k: self.source_data[k[2]]
                for k, (_, placeholder) in staged_links.items()
                if not placeholder
            }
            links.update(tx.insert_links([(k, r, ph) for k, (r, ph) in staged_links.items()], read))
            self.data_stored.update(read)
            staged_records.clear()
            staged_links.clear()

        for p, content_hash in pulled:
            key = (self.connector, self.entity, p.external_id)
            link = links.get(key)
            if link is None and key not in staged_links:
                target = next((r for r in map(record_of, _ref_keys(p)) if r), None)
                if target is None:
                    target = new_record_id()
                    staged_records.append((target, self.mapping.kind))
                    self.new_records.add(target)
                    self.report.created += 1
                staged_links[key] = (target, False)
            elif link is not None and (link.placeholder or link.deleted):
                link.placeholder = link.deleted = False
                revived.append(link)
            mine = record_of(key)
            assert mine is not None
            for ref in _ref_keys(p):
                other = record_of(ref)
                if other is None:
                    staged_links[ref] = (mine, True)
                elif other != mine:
                    flush()
                    self._merge(other, mine, links)
            work.append((p, key, content_hash))
        flush()
        tx.save_links(revived, {})
        return work

    def _merge(self, loser: str, winner: str, links: dict[LinkKey, LinkRow]) -> None:
        """Two records turn out to be the same work: move the links, compare afresh."""
        log.info("records %s and %s are the same work (linked); merging", loser, winner)
        moved = self.tx.links_of([loser]).get(loser, [])
        for row in moved:
            row.record_id = winner
            row.bases = {}  # compared as a new link on its next read
            row.content_hash = None
            links[row.key] = row
        self.tx.save_links(moved, {}, moved=True)
        self.tx.conn.execute(t.conflicts.delete().where(t.conflicts.c.record_id == loser))
        self.tx.delete_record(loser)


def _ref_keys(p: Pulled) -> list[LinkKey]:
    return [(ln.connector, ln.entity, ln.external_id) for ln in p.links]


def _store_outcome(tx: Tx, record_id: str, outcome: Outcome, outbox: OutboxStage) -> None:
    """Conflicts and pending writes of an outcome (the audit rows are the caller's)."""
    for name, conflict in outcome.opened.items():
        tx.open_conflict(record_id, name, conflict)
    for name, conflict in outcome.updated.items():
        tx.update_conflict(record_id, name, conflict)
    for name, value in outcome.closed.items():
        by = outcome.resolved_by or next(
            (c.origin for c in outcome.changes if c.field == name), "agreement"
        )
        tx.close_conflict(record_id, name, value, by)
    outbox.apply(record_id, outcome.pushes, outcome.cancels)
