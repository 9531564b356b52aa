"""A scratch copy of the store, for a dry run: a sync runs on it in full and is thrown away.

A dry run that rolls each page back cannot see what pages do to each other (a Jira page
links to the ShotGrid tasks a later page brings; only then are titles compared and
conflicts opened), so it reported "pushed 0, conflicts 0" where the real run pushed
hundreds. On a copy the sync runs exactly as it would, and what it did is read back here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import sqlalchemy as sa

from syncd.store import tables as t
from syncd.store.conflicts import ConflictRow
from syncd.store.store import Store, Tx

# Work queued for the service (jobs, webhook deliveries) is not the dry run's to do.
_NOT_COPIED = frozenset({t.jobs.name, t.inbox.name})
_CHUNK = 2000


@contextmanager
def scratch_copy(source: Store) -> Iterator[Store]:
    """A throwaway SQLite store holding what `source` holds (removed when the block ends)."""
    with TemporaryDirectory(prefix="syncd-dry-run-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'dry-run.sqlite3'}"
        if source.is_sqlite:
            _backup(source, url)  # the file as it is: schema and rows, one consistent copy
            scratch = Store(url, clock=source.clock, migrate=False)
            with scratch.transaction() as dst:
                for name in _NOT_COPIED:
                    dst.conn.execute(t.metadata.tables[name].delete())
        else:
            scratch = Store(url, clock=source.clock)
            _copy_rows(source, scratch)
        try:
            yield scratch
        finally:
            scratch.close()


def _backup(source: Store, url: str) -> None:
    """SQLite's online backup of the source file into `url`'s file."""
    target = sa.create_engine(url)
    try:
        with source.engine.connect() as src, target.connect() as dst:
            src_db = src.connection.dbapi_connection
            dst_db = dst.connection.dbapi_connection
            assert isinstance(src_db, sqlite3.Connection)
            assert isinstance(dst_db, sqlite3.Connection)
            src_db.backup(dst_db)
    finally:
        target.dispose()


def _copy_rows(source: Store, scratch: Store) -> None:
    """Every row of every table but the queues, from one snapshot (PostgreSQL to SQLite)."""
    with source.snapshot() as src, scratch.transaction() as dst:
        for table in t.metadata.sorted_tables:
            if table.name in _NOT_COPIED:
                continue
            rows = src.conn.execution_options(yield_per=_CHUNK).execute(sa.select(table))
            for chunk in rows.partitions(_CHUNK):
                dst.conn.execute(table.insert(), [dict(r._mapping) for r in chunk])


def linked_records(tx: Tx) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Records linked to more than one live source record: record id -> every (connector,
    entity, external id) it is linked to, in order."""
    links = t.links
    query = (
        sa.select(links.c.record_id, links.c.connector, links.c.entity, links.c.external_id)
        .where(links.c.placeholder.is_(False), links.c.deleted.is_(False))
        .order_by(links.c.record_id, links.c.connector, links.c.entity, links.c.external_id)
    )
    found: dict[str, list[tuple[str, str, str]]] = {}
    for row in tx.conn.execute(query):
        found.setdefault(row.record_id, []).append((row.connector, row.entity, row.external_id))
    return {record: tuple(keys) for record, keys in found.items() if len(keys) > 1}


def open_conflicts(tx: Tx) -> list[ConflictRow]:
    """Every open conflict (however many)."""
    return tx.conflicts.find(status="open", limit=1_000_000)
