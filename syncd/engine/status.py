"""Where each connector stands: cursors, its last runs, what waits in its outbox."""

from __future__ import annotations

from collections.abc import Iterable

from syncd.mapping.load import MappingSet
from syncd.store.store import Store


def connector_status(
    store: Store, connectors: Iterable[str], mappings: MappingSet
) -> list[dict[str, object]]:
    """Per connector: cursor per entity, last run, last success, outbox depth."""
    out: list[dict[str, object]] = []
    with store.transaction() as tx:
        depth = tx.outbox.depth()
        for name in connectors:
            runs = tx.runs.recent(name, limit=20)
            last_ok = next((r for r in runs if r.status == "ok"), None)
            out.append(
                {
                    "connector": name,
                    "cursors": {
                        m.entity: tx.cursors.get(name, m.entity)
                        for m in mappings.for_connector(name)
                    },
                    "last_run": runs[0].status if runs else None,
                    "last_success": last_ok.finished_at if last_ok else None,
                    "last_error": next((r.message for r in runs if r.status == "failed"), None),
                    "outbox": depth.get(name, 0),
                }
            )
    return out
