"""People's decisions: a conflict settled (or a field set) by hand."""

from __future__ import annotations

from syncd.engine.context import Rules
from syncd.engine.outcomes import store_outcome
from syncd.model import JsonValue
from syncd.reconcile import apply_outcome, resolve
from syncd.store.store import Store


def resolve_conflict(
    store: Store, rules: Rules, record_id: str, field_name: str, value: JsonValue, by: str
) -> None:
    """Settle a conflict (or set a field by hand) and queue the value for every source."""
    with store.transaction() as tx:
        tx.serialize_writers()
        record = tx.records.load([record_id])[record_id]
        views = rules.link_views(tx.links.of_records([record_id]).get(record_id, []))
        outcome = resolve(record, views, field_name, value, by)
        tx.audit.add(
            record_id, outcome.changes, mapping_version=rules.mappings.version, run_id=None
        )
        outbox = tx.outbox.stage(tx.outbox.pending(v.key for v in views))
        store_outcome(tx, record_id, outcome, outbox)
        outbox.flush()
        apply_outcome(record, views, outcome)
        tx.records.save({record_id: record})
