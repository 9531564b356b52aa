"""What the steps read when they run: the connectors, the mappings' rules in force, dry run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from syncd.connector import Connector
from syncd.engine.plan import WriteRecorder
from syncd.mapping.load import MappingSet
from syncd.model import RecordKind
from syncd.reconcile import FieldPolicy, LinkView
from syncd.store.links import LinkRow


@dataclass(frozen=True)
class Rules:
    """One mapping version as the steps use it: field policies per kind, what links carry."""

    mappings: MappingSet
    policies: defaultdict[RecordKind, dict[str, FieldPolicy]]
    connectors: Collection[str]  # the configured connectors' names (a live view)

    @classmethod
    def build(cls, mappings: MappingSet, connectors: Collection[str]) -> Rules:
        """Derive the field policies of every kind from the mapping files."""
        policies: defaultdict[RecordKind, dict[str, FieldPolicy]] = defaultdict(dict)
        for (connector, _), em in mappings.entities.items():
            for key, spec in em.spec.fields.items():
                name = spec.field or key
                current = policies[em.kind].get(name)
                owner = connector if spec.owner else (current.owner if current else None)
                initial = connector if spec.initial else (current.initial if current else None)
                policies[em.kind][name] = FieldPolicy(spec.policy, owner, initial)
        return cls(mappings, policies, connectors)

    def link_views(self, rows: Iterable[LinkRow]) -> list[LinkView]:
        """The links a record is compared with and written to, with what each pulls and pushes."""
        views = []
        for row in rows:
            if row.placeholder or row.deleted:
                continue  # never seen, or gone: nothing to compare with or write to
            mapping = self.mappings.entities.get((row.connector, row.entity))
            pulls = mapping.pulled if mapping else frozenset()
            pushes = mapping.pushed if mapping else frozenset()
            if row.connector not in self.connectors:
                pushes = frozenset()
            views.append(
                LinkView(row.connector, row.entity, row.external_id, row.bases, pulls, pushes)
            )
        return views


@dataclass
class StepContext:
    """Shared by the engine and its steps, read at call time: a hot reload replaces `rules`
    and a dry run may be switched on after start, and both hold from the next call on."""

    connectors: dict[str, Connector]
    rules: Rules
    dry_run: bool = False
    # A dry run on a scratch copy of the store: writes are listed here instead of sent.
    recorder: WriteRecorder | None = None
