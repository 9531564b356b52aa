"""Batch-shaped reads: keys grouped by source and cut into chunks a query can bind."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from syncd.reconcile import LinkKey


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def by_source(keys: Iterable[LinkKey]) -> Iterator[tuple[str, str, Sequence[str]]]:
    """(connector, entity, external ids) groups of keys, at most 500 ids a query."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for connector, entity, external_id in set(keys):
        grouped.setdefault((connector, entity), []).append(external_id)
    for (connector, entity), ids in grouped.items():
        for chunk in chunks(sorted(ids)):
            yield connector, entity, chunk
