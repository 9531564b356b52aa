"""The state store: the engine and its connections, and `Tx`, one transaction on it.

`Store` owns the SQLAlchemy engine; `store.transaction()` yields a `Tx` whose aggregates
(`tx.records`, `tx.links`, `tx.outbox`, ...) read and write in that one transaction, each a
module of its own in this package. Reads are batch-shaped (many keys per query) because a
sync stores a page of records at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from syncd.jsontext import dumps, loads
from syncd.store.audit import Audit
from syncd.store.conflicts import Conflicts
from syncd.store.cursors import Cursors, Runs
from syncd.store.identities import Identities
from syncd.store.inbox import Inbox
from syncd.store.jobs import Jobs
from syncd.store.links import Links
from syncd.store.mapping_versions import MappingVersions
from syncd.store.migrate import upgrade
from syncd.store.outbox import Outbox
from syncd.store.records import Records
from syncd.store.rollup_rows import RollupRows
from syncd.store.rollup_tabs import RollupTabs
from syncd.store.source_errors import SourceErrors

Clock = Callable[[], datetime]
_WRITE_LOCK = 0x5E7C_D002  # advisory lock id: record/link writers, across replicas


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Tx:
    """One transaction on the store: its aggregates, each bound to the transaction's
    connection and clock (made on first use: most transactions touch a few)."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def serialize_writers(self) -> None:
        """Take the store's write lock for this transaction (PostgreSQL; SQLite has one writer).

        Pages from several tools and replicas create and move links; taken first thing in a
        transaction, this makes their reads see each other's committed links.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK})

    def ping(self) -> None:
        """Ask the database a trivial question (raises when it cannot answer)."""
        self.conn.execute(sa.text("SELECT 1"))

    @cached_property
    def records(self) -> Records:
        """The records."""
        return Records(self.conn, self.now)

    @cached_property
    def links(self) -> Links:
        """Which source record represents which record."""
        return Links(self.conn, self.now)

    @cached_property
    def outbox(self) -> Outbox:
        """Values waiting to be written to source records."""
        return Outbox(self.conn, self.now)

    @cached_property
    def inbox(self) -> Inbox:
        """Verified webhook deliveries."""
        return Inbox(self.conn, self.now)

    @cached_property
    def jobs(self) -> Jobs:
        """The job queue's table."""
        return Jobs(self.conn, self.now)

    @cached_property
    def audit(self) -> Audit:
        """Records' history of field changes."""
        return Audit(self.conn, self.now)

    @cached_property
    def conflicts(self) -> Conflicts:
        """Fields two tools changed apart."""
        return Conflicts(self.conn, self.now)

    @cached_property
    def source_errors(self) -> SourceErrors:
        """Source records that could not be read or written."""
        return SourceErrors(self.conn, self.now)

    @cached_property
    def cursors(self) -> Cursors:
        """How far each connector has read each entity."""
        return Cursors(self.conn, self.now)

    @cached_property
    def runs(self) -> Runs:
        """Sync runs and their outcomes."""
        return Runs(self.conn, self.now)

    @cached_property
    def identities(self) -> Identities:
        """Each tool's users."""
        return Identities(self.conn, self.now)

    @cached_property
    def mapping_versions(self) -> MappingVersions:
        """Stored mapping versions."""
        return MappingVersions(self.conn, self.now)

    @cached_property
    def rollup_tabs(self) -> RollupTabs:
        """What was last written to the consolidated sheet."""
        return RollupTabs(self.conn, self.now)

    @cached_property
    def rollup_rows(self) -> RollupRows:
        """The rollups' whole-store read."""
        return RollupRows(self.conn, self.now)


# The writer's page cache. SQLite's default (2 MB) is small next to what a page of new
# records touches in a large store: at 100,000 issues a first sync spent 8 % more CPU
# re-reading and re-writing pages. Only the one writer connection gets it (memory stays flat).
WRITER_CACHE_KIB = 32 * 1024


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("syncd_writer") and not conn.info.get("syncd_cache_sized"):
        conn.exec_driver_sql(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        conn.info["syncd_cache_sized"] = True  # per DBAPI connection: a reconnect sizes anew
    snapshot = options.get("syncd_snapshot", False)
    conn.exec_driver_sql("BEGIN" if snapshot else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL is durable across process crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """The state store behind one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, clock: Clock = utc_now, migrate: bool = True) -> None:
        self.url = url
        self.clock = clock
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self._writer: Connection | None = None
        self._writing = False  # a write transaction is open (a nested one takes another)
        if self.is_sqlite:
            self.engine: Engine = sa.create_engine(
                url, connect_args={"timeout": 30}, json_serializer=dumps, json_deserializer=loads
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # Take the write lock at BEGIN so two writers queue instead of deadlocking
            # (snapshots, which only read, begin without it).
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = sa.create_engine(
                url, pool_pre_ping=True, json_serializer=dumps, json_deserializer=loads
            )
        if migrate:
            try:
                upgrade(self.engine)
            except BaseException:
                self.engine.dispose()  # a refused start leaves no connection behind
                raise

    @contextmanager
    def transaction(self, *, dry_run: bool = False) -> Iterator[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises.

        With `dry_run` it is always rolled back: everything is computed, nothing is kept.
        """
        if self._write_lock is not None:
            # SQLite has one writer: queue our own threads here instead of letting them
            # sleep in SQLite's busy handler (which backs off in steps of up to 100 ms).
            with self._write_lock:
                if dry_run or self._writing:
                    yield from self._transaction(dry_run)
                else:
                    yield from self._write_transaction()
        else:
            yield from self._transaction(dry_run)

    def _write_transaction(self) -> Iterator[Tx]:
        # One connection for every write (under the write lock): its page cache stays warm
        # from one page to the next, where pooled connections each started cold.
        if self._writer is None:
            self._writer = self.engine.connect().execution_options(syncd_writer=True)
        self._writing = True
        try:
            with self._writer.begin():
                yield Tx(self._writer, self.clock())
        finally:
            self._writing = False

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent view that neither waits for writers nor
        holds them up (SQLite WAL readers; PostgreSQL REPEATABLE READ, READ ONLY). For long
        reads such as the rollups' whole-store read; writing in it is an error."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(syncd_snapshot=True)
            else:
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            transaction = conn.begin()
            try:
                yield Tx(conn, self.clock())
            finally:
                transaction.rollback()

    def _transaction(self, dry_run: bool) -> Iterator[Tx]:
        if not dry_run:
            with self.engine.begin() as conn:
                yield Tx(conn, self.clock())
            return
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield Tx(conn, self.clock())
            finally:
                transaction.rollback()

    def close(self) -> None:
        """Close every pooled connection."""
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
        self.engine.dispose()
