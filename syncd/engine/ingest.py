"""Ingest of one page: translate, link, reconcile and store it (with its cursor) in one
transaction, the page's links and records prefetched."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncd.connector import SourceRecord
from syncd.derive import derive
from syncd.engine.context import Rules, StepContext
from syncd.engine.links import LIVE, Attached, attach, audit_link_states, mark_deleted
from syncd.engine.outcomes import store_outcome
from syncd.engine.report import SyncReport
from syncd.engine.snapshot import Snapshot
from syncd.jsontext import digest_bytes
from syncd.mapping.apply import EntityMapping, Pulled
from syncd.reconcile import (
    FieldPolicy,
    Incoming,
    LinkKey,
    LinkView,
    RecordView,
    apply_outcome,
    reconcile,
)
from syncd.store.links import LinkRow
from syncd.store.outbox import OutboxStage
from syncd.store.store import Store, Tx

log = logging.getLogger(__name__)

OnCommit = Callable[[Tx], None]

Candidate = tuple[SourceRecord, str, str]  # (record, external id, raw content hash)


class PageIngest:
    """Stores pages of source records, each with the cursor after it in one transaction."""

    def __init__(self, store: Store, context: StepContext) -> None:
        self.store, self.context = store, context

    def store_page(
        self,
        connector: str,
        entity: str,
        records: Sequence[SourceRecord],
        *,
        cursor: str | None = None,
        keep_cursor: bool | None = None,
        run_id: str | None = None,
        on_commit: OnCommit | None = None,
        inbox: Sequence[int] = (),
    ) -> SyncReport:
        """Store one page of source records, and the cursor after it, in one transaction
        (`inbox`: the deliveries that asked for the read, which may say who deleted)."""
        rules = self.context.rules
        mapping = rules.mappings.entity(connector, entity)
        with self.store.transaction(dry_run=self.context.dry_run) as tx:
            report = ingest_records(tx, rules, mapping, records, run_id, inbox=inbox)
            if keep_cursor is None:
                keep_cursor = cursor is None
            if not keep_cursor:
                tx.cursors.set(connector, entity, cursor)
            if on_commit is not None:
                on_commit(tx)
        return report

    def finish_snapshot(
        self,
        snapshot: Snapshot,
        *,
        run_id: str | None = None,
        on_commit: OnCommit | None = None,
        inbox: Sequence[int] = (),
    ) -> SyncReport:
        """After a complete read's last page: what it no longer holds is gone (one
        transaction, `on_commit` inside it)."""
        version = self.context.rules.mappings.version
        with self.store.transaction(dry_run=self.context.dry_run) as tx:
            report = snapshot.finish(tx, version=version, run_id=run_id, inbox=inbox)
            if on_commit is not None:
                on_commit(tx)
        return report


def ingest_records(
    tx: Tx,
    rules: Rules,
    mapping: EntityMapping,
    records: Sequence[SourceRecord],
    run_id: str | None,
    *,
    inbox: Sequence[int] = (),
) -> SyncReport:
    """Translate, link, reconcile and store one page inside the caller's transaction.

    `inbox`: the deliveries that asked for the read (who deleted or restored, if they say).
    """
    report = SyncReport()
    tx.serialize_writers()
    people = tx.identities.emails(mapping.connector)
    # A source record whose raw content, mapping and people directory are all as last
    # time cannot change anything: it is skipped before it is even translated (overlap
    # re-reads, a whole tab re-read for a one-cell edit).
    basis = f"{rules.mappings.version}:{_digest(sorted(people.items()))}"
    candidates, deleted = _screen(tx, mapping, records, basis, report)
    changed = _changed_only(tx, mapping, candidates, report)
    source = (mapping.connector, mapping.entity)
    keys: set[LinkKey] = {(*source, ext) for _, ext, _ in changed}
    keys |= {(*source, ext) for ext in deleted}
    links = tx.links.find(keys)
    pulled, source_data = _translate(tx, mapping, changed, people, report)
    refs = {(ln.connector, ln.entity, ln.external_id) for p, _ in pulled for ln in p.links}
    links.update(tx.links.find(refs - set(links)))
    version = rules.mappings.version
    report.deleted += len(
        mark_deleted(
            tx, mapping, links, deleted, mapping_version=version, run_id=run_id, inbox=inbox
        )
    )
    attached = attach(tx, mapping, pulled, links, source_data)
    audit_link_states(
        tx, attached.restored, LIVE, mapping_version=version, run_id=run_id, inbox=inbox
    )
    report.created += len(attached.new_records)
    report.restored += len(attached.restored)
    # Problems reported at a row this page read and not found there again are settled.
    rows_read = {f"{mapping.entity} row {r.row}" for r in records if r.row is not None}
    if rows_read:
        report.problems += tx.source_errors.settle_located(*source, tx.now, locations=rows_read)
    if not attached.work:
        return report
    _reconcile_page(tx, _Scope(rules, mapping, run_id, report), attached, links, source_data)
    return report


def _screen(
    tx: Tx,
    mapping: EntityMapping,
    records: Sequence[SourceRecord],
    basis: str,
    report: SyncReport,
) -> tuple[list[Candidate], list[str]]:
    """Sort a page into records to consider (with their raw hash) and deleted ids; rows the
    connector or the mapping cannot use are reported as source errors."""
    candidates: list[Candidate] = []
    deleted: list[str] = []
    for record in records:
        report.pulled += 1
        if record.deleted:
            if record.external_id:
                deleted.append(record.external_id)
            continue
        problem = record.problem
        if problem:
            # The connector could read the row but not use it (no key, a duplicate key):
            # report it with its place; the other rows go on.
            _source_error(tx, mapping, record, str(problem), report)
            continue
        try:
            external_id = mapping.external_id(record.data)
        except ValueError as exc:
            _source_error(tx, mapping, record, str(exc), report)
            continue
        candidates.append((record, external_id, _raw_hash(basis, record.data)))
    return candidates, deleted


def _changed_only(
    tx: Tx, mapping: EntityMapping, candidates: Sequence[Candidate], report: SyncReport
) -> list[Candidate]:
    """The candidates whose raw content differs from what their live link last held."""
    source = (mapping.connector, mapping.entity)
    hashes = tx.links.live_hashes((*source, ext) for _, ext, _ in candidates)
    changed = [
        (record, ext, raw_hash)
        for record, ext, raw_hash in candidates
        if hashes.get((*source, ext)) != raw_hash
    ]
    report.skipped += len(candidates) - len(changed)
    return changed


def _translate(
    tx: Tx,
    mapping: EntityMapping,
    changed: Sequence[Candidate],
    people: Mapping[str, str],
    report: SyncReport,
) -> tuple[list[tuple[Pulled, str]], dict[str, dict[str, Any]]]:
    """Translate the changed records; returns them (with their raw hash) and their raw data
    by external id."""
    pulled: list[tuple[Pulled, str]] = []
    source_data: dict[str, dict[str, Any]] = {}
    for record, _, raw_hash in changed:
        try:
            translated = mapping.pull(record.data, people)
        except ValueError as exc:
            _source_error(tx, mapping, record, str(exc), report)
            continue
        pulled.append((translated, raw_hash))
        source_data[translated.external_id] = record.data
    return pulled, source_data


@dataclass(frozen=True)
class _Scope:
    """What a page is reconciled under, and the report it counts into."""

    rules: Rules
    mapping: EntityMapping
    run_id: str | None
    report: SyncReport


@dataclass
class _Writes:
    """What reconciling a page leaves to store, gathered for bulk writes."""

    outbox: OutboxStage
    audit: list[dict[str, Any]] = field(default_factory=list)
    dirty_records: dict[str, RecordView] = field(default_factory=dict)
    source_times: dict[int, datetime] = field(default_factory=dict)


def _reconcile_page(
    tx: Tx,
    scope: _Scope,
    attached: Attached,
    links: Mapping[LinkKey, LinkRow],
    source_data: Mapping[str, dict[str, Any]],
) -> None:
    """Reconcile the page's records with what the store holds, and store the results."""
    work, new_records = attached.work, attached.new_records
    record_ids = {links[key].record_id for _, key, _ in work}
    views = tx.records.load(record_ids - new_records)
    views.update({rid: RecordView(kind=scope.mapping.kind) for rid in new_records})
    rows = tx.links.of_records(record_ids)
    by_key = {row.key: row for rs in rows.values() for row in rs}
    pending = tx.outbox.pending(by_key) if len(new_records) < len(record_ids) else {}
    writes = _Writes(tx.outbox.stage(pending))
    policies = scope.rules.policies[scope.mapping.kind]
    for p, key, content_hash in work:
        row = by_key[key]
        view = views[row.record_id]
        link_views = scope.rules.link_views(rows[row.record_id])
        _reconcile_record(tx, scope, p, row, view, link_views, policies, writes)
        row.content_hash = content_hash
        if p.updated_at:
            writes.source_times[row.id] = p.updated_at
    writes.outbox.flush()
    tx.audit.insert(writes.audit)
    tx.records.save(writes.dirty_records)
    # Links inserted by this page already hold their source data; the others get it now.
    holding: list[LinkRow] = []
    missing: list[LinkRow] = []
    for _, key, _ in work:
        (holding if key in attached.data_stored else missing).append(by_key[key])
    tx.links.save(holding, writes.source_times)
    tx.links.save(
        missing, writes.source_times, {row.id: source_data[row.external_id] for row in missing}
    )


def _reconcile_record(
    tx: Tx,
    scope: _Scope,
    p: Pulled,
    row: LinkRow,
    view: RecordView,
    link_views: list[LinkView],
    policies: Mapping[str, FieldPolicy],
    writes: _Writes,
) -> None:
    """Reconcile one source record into its record, then the fields syncd derives."""
    mapping, report = scope.mapping, scope.report
    version, run_id = scope.rules.mappings.version, scope.run_id
    incoming = Incoming(
        mapping.connector, mapping.entity, p.external_id, p.values, p.updated_at, p.issues
    )
    outcome = reconcile(view, link_views, incoming, policies)
    writes.audit += tx.audit.rows(
        row.record_id, outcome.changes, mapping_version=version, run_id=run_id
    )
    store_outcome(tx, row.record_id, outcome, writes.outbox)
    apply_outcome(view, link_views, outcome)
    derived = derive(view, link_views, tx.now)
    if not derived.empty:
        writes.audit += tx.audit.rows(
            row.record_id, derived.changes, mapping_version=version, run_id=run_id
        )
        store_outcome(tx, row.record_id, derived, writes.outbox)
        apply_outcome(view, link_views, derived)
        writes.dirty_records[row.record_id] = view
    if not outcome.empty:
        writes.dirty_records[row.record_id] = view
    if outcome.pushes or derived.pushes:
        report.touched.add(row.record_id)
    report.changed_fields += len(outcome.changes)
    report.conflicts_opened += len(outcome.opened)
    report.differs_at_link += len(outcome.differs)
    for differs in outcome.differs:
        log.info(
            "differs at link: record %s %s: %s holds %r, %s holds %r; kept %s",
            row.record_id,
            differs.field,
            differs.held_by,
            differs.ours,
            differs.source,
            differs.theirs,
            differs.kept,
        )


def _source_error(
    tx: Tx, mapping: EntityMapping, record: SourceRecord, message: str, report: SyncReport
) -> None:
    row = record.row
    report.problems += tx.source_errors.add(
        mapping.connector,
        mapping.entity,
        record.external_id,
        message,
        location=f"{mapping.entity} row {row}" if row is not None else None,
    )


def _digest(value: Any) -> str:
    return hashlib.sha256(digest_bytes(value)).hexdigest()


def _raw_hash(basis: str, data: Mapping[str, Any]) -> str:
    """What a source record said, under a mapping and people directory (row position aside:
    a sheet row moving changes nothing)."""
    # A row's number is `SourceRecord.row`, never part of its data: a moved row hashes alike.
    return _digest([basis, dict(data)])
