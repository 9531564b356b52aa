"""A dry run that tells: the sync run in full on a scratch copy of the store, its writes
listed instead of sent, and the conflicts it opened and records it linked read back.

Nothing is written anywhere: the tools are only read (the writes go to a recorder), and the
store is copied first and the copy thrown away. Because the sync really runs (every page,
links across tools, reconciles, read-before-write), the list is what a real run started
from the same data would write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.connector import Connector
from syncd.engine.engine import Engine
from syncd.engine.plan import DryRunPlan, PlannedConflict, PlannedLink, WriteRecorder, title_of
from syncd.engine.pull import Progress
from syncd.engine.report import SyncReport
from syncd.mapping.load import MappingSet
from syncd.store.scratch import linked_records, open_conflicts, scratch_copy
from syncd.store.store import Store


@dataclass
class DryRun:
    """A dry run's counts (as the real run would report them) and its list."""

    report: SyncReport
    plan: DryRunPlan


def dry_run(
    store: Store,
    connectors: Mapping[str, Connector],
    mappings: MappingSet,
    *,
    only: Sequence[str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> DryRun:
    """What a sync would do now, listed; nothing stored, nothing written."""
    with scratch_copy(store) as scratch:
        with scratch.snapshot() as tx:
            open_before = {(c.record_id, c.field) for c in open_conflicts(tx)}
            linked_before = linked_records(tx)
        recorder = WriteRecorder()
        engine = Engine(scratch, connectors, mappings, recorder=recorder)
        report = engine.sync(only=only, full=full, push=True, progress=progress)
        with scratch.snapshot() as tx:
            opened = [c for c in open_conflicts(tx) if (c.record_id, c.field) not in open_before]
            linked = {
                record: keys
                for record, keys in linked_records(tx).items()
                if linked_before.get(record) != keys
            }
            records = tx.records.load({c.record_id for c in opened} | set(linked))
            sources = tx.links.of_records({c.record_id for c in opened})

    def title(record_id: str) -> str | None:
        record = records.get(record_id)
        return title_of(record.fields) if record else None

    conflicts = [
        PlannedConflict(
            title=title(c.record_id),
            field=c.field,
            candidates=c.candidates,
            records=sorted(
                f"{link.connector} {link.entity} {link.external_id}"
                for link in sources.get(c.record_id, [])
                if not link.placeholder and not link.deleted
            ),
        )
        for c in opened
    ]
    links = [
        PlannedLink(title=title(record), records=[" ".join(key) for key in keys])
        for record, keys in linked.items()
    ]
    plan = DryRunPlan(
        writes=recorder.writes(),
        conflicts=sorted(conflicts, key=lambda c: (c.records, c.field)),
        links=sorted(links, key=lambda link: link.records),
    )
    return DryRun(report, plan)
