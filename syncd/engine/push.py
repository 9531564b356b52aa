"""Push: claim a tool's due writes, re-read their targets, write them, record what happened."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from syncd.connector import Capability, Connector, PushItem, PushResult, PushStep
from syncd.engine.context import StepContext
from syncd.engine.plan import PlannedWrite, title_of, why
from syncd.engine.refresh import Refresh
from syncd.engine.report import SyncReport
from syncd.errors import AuthError, ConnectorError, TransientError
from syncd.mapping.apply import EntityMapping
from syncd.model import JsonValue
from syncd.reconcile import Change
from syncd.store.outbox import OutboxRow
from syncd.store.store import Store

PUSH_RETRY_BASE = timedelta(seconds=30)
PUSH_MAX_ATTEMPTS = 8

Sent = dict[str, tuple[OutboxRow, dict[str, JsonValue]]]  # external id -> (row, fields written)


class Push:
    """Writes what the outbox holds to the tools, one writer per tool at a time."""

    def __init__(self, store: Store, context: StepContext, refresh: Refresh) -> None:
        self.store, self.context, self.refresh = store, context, refresh
        # One writer per tool at a time in this process: two workers pushing the same
        # pending write at once would send it twice.
        self.locks = {name: threading.Lock() for name in context.connectors}

    def run(
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
        connector = self.context.connectors.get(connector_name)
        if (
            self.context.dry_run
            or connector is None
            or Capability.PUSH not in connector.capabilities
        ):
            return SyncReport()
        # Nothing due: say so without queueing behind another thread's writes to this tool
        # (a lane's round would otherwise wait out another lane's read-before-write).
        with self.store.snapshot() as tx:
            if not tx.outbox.due(connector_name, 1, records=records):
                return SyncReport()
        lock = self.locks[connector_name]
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
            rows = tx.outbox.due(connector_name, limit, records=records)
            people = tx.identities.emails(connector_name)
        by_entity = defaultdict(list)
        for row in rows:
            by_entity[row.entity].append(row)
        for entity, entity_rows in by_entity.items():
            mapping = self.context.rules.mappings.entities.get((connector_name, entity))
            if mapping is None:
                continue
            if Capability.FETCH in connector.capabilities:
                try:
                    entity_rows = self._read_before_write(connector_name, entity, entity_rows)
                except ConnectorError as exc:
                    self._fail_rows(entity_rows, str(exc), transient=not isinstance(exc, AuthError))
                    report.errors.append(str(exc))
                    continue
            items, sent = self._payloads(connector_name, mapping, entity_rows, people)
            if items:
                self._write(connector, connector_name, entity, items, sent, report)
        return report

    def _read_before_write(
        self, connector: str, entity: str, rows: Sequence[OutboxRow]
    ) -> list[OutboxRow]:
        """Read-compare-write: the tools have no conditional writes, so re-read the targets
        first (one fetch for the batch). A change a person made there since syncd last read
        it is reconciled, kept or held as a conflict, instead of being overwritten; what is
        still to be written is returned."""
        self.refresh.run(connector, entity, [row.external_id for row in rows])
        keys = [(connector, entity, row.external_id) for row in rows]
        with self.store.transaction() as tx:
            fresh = tx.outbox.pending(keys)
            links = tx.links.find(keys)
            for key, row in list(fresh.items()):
                # The tool already holds the value (a write that landed before a crash, or
                # a person who typed the same): mark it written rather than write it again.
                bases = links[key].bases if key in links else {}
                held = {f: v for f, v in row.fields.items() if f in bases and bases[f] == v}
                if not held:
                    continue
                tx.outbox.complete(row.id, held)
                remaining = {f: v for f, v in row.fields.items() if f not in held}
                if remaining:
                    fresh[key] = replace(row, fields=remaining)
                else:
                    del fresh[key]
        return [fresh[key] for key in keys if key in fresh]

    def _payloads(
        self,
        connector_name: str,
        mapping: EntityMapping,
        entity_rows: Sequence[OutboxRow],
        people: Mapping[str, str],
    ) -> tuple[list[PushItem], Sent]:
        """Translate the rows to the tool's payloads; a field that cannot be written is
        reported and its write cancelled."""
        entity = mapping.entity
        items: list[PushItem] = []
        sent: Sent = {}
        with self.store.transaction() as tx:
            # What each target holds (read just before): a template's unwritten parts are
            # checked against it.
            held = tx.links.current_data(
                connector_name, entity, [r.external_id for r in entity_rows]
            )
            for row in entity_rows:
                payload, issues = mapping.push(row.fields, people, held.get(row.external_id))
                for issue in issues:
                    tx.source_errors.add(
                        connector_name,
                        entity,
                        row.external_id,
                        f"cannot write {issue.field}: {issue.reason}",
                        field=issue.field,
                    )
                bad = {issue.field for issue in issues}
                if bad:
                    tx.outbox.cancel((connector_name, entity, row.external_id), bad)
                fields = {k: v for k, v in row.fields.items() if k not in bad}
                if payload and fields:
                    items.append(PushItem(external_id=row.external_id, payload=payload))
                    sent[row.external_id] = (row, fields)
        return items, sent

    def _write(
        self,
        connector: Connector,
        connector_name: str,
        entity: str,
        items: list[PushItem],
        sent: Sent,
        report: SyncReport,
    ) -> None:
        """Send the payloads; record what was written, refused, or failed (to retry)."""
        if self.context.recorder is not None:
            # A dry run on a scratch store: list the writes, and carry on as if they landed.
            self.context.recorder.add(self._planned(connector_name, entity, sent))
            result = PushResult(written=[item.external_id for item in items])
            report.pushed += len(result.written)
            self._record_push(connector_name, entity, sent, result.written, {})
            return
        try:
            result = connector.push(entity, items)
        except TransientError as exc:
            self._fail_rows([r for r, _ in sent.values()], str(exc), transient=True)
            report.errors.append(str(exc))
            return
        except ConnectorError as exc:
            self._fail_rows(
                [r for r, _ in sent.values()],
                str(exc),
                transient=not isinstance(exc, AuthError),
            )
            report.errors.append(str(exc))
            return
        report.pushed += len(result.written)
        report.push_rejected += len(result.rejected)
        self._record_push(connector_name, entity, sent, result.written, result.rejected)
        if result.steps:
            self._audit_steps(connector_name, sent, result.steps)

    def _planned(self, connector: str, entity: str, sent: Sent) -> list[PlannedWrite]:
        """The writes of a batch, field by field: what the tool holds, what it would hold."""
        mapping = self.context.rules.mappings.entities[(connector, entity)]
        policies = self.context.rules.policies[mapping.kind]
        with self.store.snapshot() as tx:
            links = tx.links.find((connector, entity, ext) for ext in sent)
            records = tx.records.load({row.record_id for row, _ in sent.values()})
        planned = []
        for external_id, (row, fields) in sent.items():
            link = links.get((connector, entity, external_id))
            record = records.get(row.record_id)
            for name, value in fields.items():
                spec = mapping.field_spec(name)
                planned.append(
                    PlannedWrite(
                        tool=connector,
                        entity=entity,
                        key=external_id,
                        title=title_of(record.fields) if record else None,
                        field=name,
                        path=_path_text(spec.push_path or spec.path) if spec else name,
                        current=link.bases.get(name) if link else None,
                        new=value,
                        why=why(policies.get(name), record.meta.get(name) if record else None),
                    )
                )
        return planned

    def _audit_steps(
        self, connector: str, sent: Sent, steps: Mapping[str, Sequence[PushStep]]
    ) -> None:
        """Each intermediate move a write took (a hop of a multi-hop status change) goes in
        the record's history, as the tool named it."""
        with self.store.transaction() as tx:
            for external_id, moves in steps.items():
                if external_id not in sent:
                    continue
                changes = [
                    Change(
                        field=f"{connector}:{step.field}",
                        old=step.old,
                        new=step.new,
                        origin=f"syncd via {step.via!r}"[:128],
                        at=None,
                        reason="transition",
                    )
                    for step in moves
                ]
                tx.audit.add(
                    sent[external_id][0].record_id, changes, mapping_version=None, run_id=None
                )

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
            links = tx.links.find((connector, entity, ext) for ext in written)
            for external_id in written:
                row, fields = sent[external_id]
                tx.outbox.complete(row.id, fields)
                link = links.get((connector, entity, external_id))
                if link is not None:
                    # The source now holds what we wrote: its echo will be a no-op. Its
                    # content changed, so the last content hash no longer describes it.
                    link.bases.update(fields)
                    link.content_hash = None
            tx.links.save(links.values(), {})
            for external_id, reason in rejected.items():
                row, _ = sent[external_id]
                tx.outbox.fail(row.id, reason, retry_in=None)
                tx.source_errors.add(connector, entity, external_id, f"write refused: {reason}")

    def _fail_rows(self, rows: Sequence[OutboxRow], error: str, *, transient: bool) -> None:
        with self.store.transaction() as tx:
            for row in rows:
                retry = PUSH_RETRY_BASE * (2 ** min(row.attempts, 6))
                give_up = not transient or row.attempts + 1 >= PUSH_MAX_ATTEMPTS
                tx.outbox.fail(row.id, error, retry_in=None if give_up else retry)


def _path_text(path: str | list[str]) -> str:
    return path if isinstance(path, str) else ".".join(path)
