"""Links of a page: find or create each source record's link and record, join records that
links say are one work, mark links whose source record was deleted."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncd.mapping.apply import EntityMapping, Pulled
from syncd.model import RecordKind
from syncd.reconcile import LinkKey, is_untranslatable
from syncd.store.links import LinkRow
from syncd.store.records import new_record_id
from syncd.store.store import Tx

log = logging.getLogger(__name__)


@dataclass
class Attached:
    """A page's source records, each with its link; what attaching them created."""

    work: list[tuple[Pulled, LinkKey, str]] = field(default_factory=list)  # (record, link, hash)
    new_records: set[str] = field(default_factory=set)
    data_stored: set[LinkKey] = field(default_factory=set)  # links inserted with their data


def mark_deleted(
    tx: Tx, mapping: EntityMapping, links: dict[LinkKey, LinkRow], deleted: Sequence[str]
) -> None:
    """Mark the links of source records the tool reports deleted."""
    source = (mapping.connector, mapping.entity)
    gone = [links[k] for k in ((*source, e) for e in deleted) if k in links]
    for row in gone:
        row.deleted = True
    tx.links.save(gone, {})


def attach(
    tx: Tx,
    mapping: EntityMapping,
    pulled: Sequence[tuple[Pulled, str]],
    links: dict[LinkKey, LinkRow],
    source_data: Mapping[str, dict[str, Any]],
) -> Attached:
    """Find or create each source record's link and record; join records links say are one.

    New records and links are staged and inserted together (a page at a time); `links`
    gains every link inserted or moved.
    """
    staging = _Staging(tx, mapping, links, source_data)
    for p, content_hash in pulled:
        key = (mapping.connector, mapping.entity, p.external_id)
        staging.own(key, p)
        mine = staging.record_of(key)
        assert mine is not None
        for ref in _ref_keys(p):
            other = staging.record_of(ref)
            if other is None:
                staging.staged_links[ref] = (mine, True)
            elif other != mine:
                staging.flush()
                _merge(tx, other, mine, links)
        staging.result.work.append((p, key, content_hash))
    staging.flush()
    tx.links.save(staging.revived, {})
    return staging.result


class _Staging:
    """New records and links waiting to be inserted, and links brought back to life."""

    def __init__(
        self,
        tx: Tx,
        mapping: EntityMapping,
        links: dict[LinkKey, LinkRow],
        source_data: Mapping[str, dict[str, Any]],
    ) -> None:
        self.tx, self.kind, self.links, self.source_data = tx, mapping.kind, links, source_data
        self.staged_records: list[tuple[str, RecordKind]] = []
        self.staged_links: dict[LinkKey, tuple[str, bool]] = {}  # key -> (record, placeholder)
        self.revived: list[LinkRow] = []
        self.result = Attached()

    def record_of(self, key: LinkKey) -> str | None:
        """The record a link (stored or staged) belongs to."""
        if key in self.links:
            return self.links[key].record_id
        staged = self.staged_links.get(key)
        return staged[0] if staged else None

    def own(self, key: LinkKey, p: Pulled) -> None:
        """Give a source record its link: a new one (to a record its refs name, or a new
        record), or its own brought back from placeholder or deleted."""
        link = self.links.get(key)
        if link is None and key not in self.staged_links:
            target = next((r for r in map(self.record_of, _ref_keys(p)) if r), None)
            if target is None:
                target = new_record_id()
                self.staged_records.append((target, self.kind))
                self.result.new_records.add(target)
            self.staged_links[key] = (target, False)
        elif link is not None and (link.placeholder or link.deleted):
            link.placeholder = link.deleted = False
            self.revived.append(link)

    def flush(self) -> None:
        """Insert the staged records and links (links read on this page with their data)."""
        tx = self.tx
        tx.records.insert_many(self.staged_records)
        read = {
            k: self.source_data[k[2]]
            for k, (_, placeholder) in self.staged_links.items()
            if not placeholder
        }
        self.links.update(
            tx.links.insert_many([(k, r, ph) for k, (r, ph) in self.staged_links.items()], read)
        )
        self.result.data_stored.update(read)
        self.staged_records.clear()
        self.staged_links.clear()


def _merge(tx: Tx, loser: str, winner: str, links: dict[LinkKey, LinkRow]) -> None:
    """Two records turn out to be the same work: move the links, compare afresh."""
    log.info("records %s and %s are the same work (linked); merging", loser, winner)
    moved = tx.links.of_records([loser]).get(loser, [])
    for row in moved:
        row.record_id = winner
        # Compared as a new link on its next read; a value that source holds and no
        # mapping reads stays untouchable meanwhile.
        row.bases = {k: v for k, v in row.bases.items() if is_untranslatable(v)}
        row.content_hash = None
        links[row.key] = row
    tx.links.save(moved, {}, moved=True)
    tx.conflicts.delete_of(loser)
    tx.records.delete(loser)


def _ref_keys(p: Pulled) -> list[LinkKey]:
    return [(ln.connector, ln.entity, ln.external_id) for ln in p.links]
