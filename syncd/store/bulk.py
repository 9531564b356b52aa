"""Page-sized writes: one statement for many rows, each distinct value bound once.

A first sync stores hundreds of thousands of rows (records, links, audit, outbox). Through
`Connection.execute(statement, rows)` SQLAlchemy builds every row's parameters generically
(per-row dictionaries, a bind processor call per value); profiles showed that dominating the
writes, mostly spent formatting the same timestamp and serializing the same small JSON
values again and again. Here the statement is compiled once per dialect, the column types'
own bind processors are looked up once, and a value repeated within the call (the
transaction's `now`, a status, an empty `{}`) is processed once. The SQL and the values that
reach the driver are exactly those SQLAlchemy would send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert, Update

Processor = Callable[[Any], Any]
_SCALARS = (str, int, float, bool, type(None))


class _Compiled:
    """A statement compiled for executemany on one dialect, with its parameter processors."""

    def __init__(self, statement: Insert | Update, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        self.sql = compiled.string
        self.positional = compiled.positional
        names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        self.names = names
        self.processors: list[Processor | None] = []
        for name in names:
            bind = compiled.binds[name]
            self.processors.append(bind.type.dialect_impl(dialect).bind_processor(dialect))

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        memos: list[dict[Any, Any]] = [{} for _ in self.names]
        columns = list(zip(self.names, self.processors, memos, strict=True))
        out: list[Any] = []
        for row in rows:
            values = []
            for name, process, memo in columns:
                value = row[name]
                if process is not None:
                    if isinstance(value, _SCALARS) or hasattr(value, "utcoffset"):
                        # Keyed by type too: 1, 1.0 and True are equal but bind differently.
                        key = (type(value), value)
                        if key not in memo:
                            memo[key] = process(value)
                        value = memo[key]
                    else:
                        value = process(value)
                values.append(value)
            out.append(
                tuple(values) if self.positional else dict(zip(self.names, values, strict=True))
            )
        return out


_cache: dict[tuple[int, str, tuple[str, ...]], tuple[Insert | Update, _Compiled]] = {}


def execute_many(
    conn: Connection, statement: Insert | Update, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run `statement` once per row (every row giving the same keys), as one executemany.

    Every parameter comes from the rows (the statement fixes no values itself), and
    `statement` should be a module-level constant: compiled forms are cached by identity.
    """
    if not rows:
        return
    keys = tuple(rows[0])
    cache_key = (id(statement), conn.dialect.name, keys)
    cached = _cache.get(cache_key)
    if cached is None or cached[0] is not statement:
        cached = (statement, _Compiled(statement, conn.dialect, keys))
        _cache[cache_key] = cached
    compiled = cached[1]
    conn.exec_driver_sql(compiled.sql, compiled.parameters(rows))
