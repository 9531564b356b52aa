"""Where each connector stands: cursors, its last runs, what waits in its outbox."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from syncd.mapping.load import MappingSet
from syncd.store import tables as t
from syncd.store.store import Store


def connector_status(
    store: Store, connectors: Iterable[str], mappings: MappingSet
) -> list[dict[str, object]]:
    """Per connector: cursor per entity, last run, last success, outbox depth."""
    out = []
    with store.transaction() as tx:
        depth = tx.outbox_depth()
        for name in connectors:
            # STORE-SPLIT:
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
                        for m in mappings.for_connector(name)
                    },
                    "last_run": runs[0].status if runs else None,
                    "last_success": last_ok.finished_at if last_ok else None,
                    "last_error": next((r.message for r in runs if r.status == "failed"), None),
                    "outbox": depth.get(name, 0),
                }
            )
    return out
