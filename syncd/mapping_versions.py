"""Mapping versions kept in the store: every applied mapping is a version; one is active.

At start-up the files in `mappings/` are compared with the stored versions: files nobody has
stored yet become a new active version (an admin edited them); otherwise the active stored
version is used, so a change applied through the admin API survives a restart.
"""

from __future__ import annotations

from pathlib import Path

from syncd.mapping.load import MappingSet, MappingSource, ReadOnlyPaths, read_sources
from syncd.store.mapping_versions import MappingVersion
from syncd.store.store import Store


class MappingVersions:
    """Stored mapping versions: save, list, load, activate (apply or roll back)."""

    def __init__(self, store: Store, read_only: ReadOnlyPaths | None = None) -> None:
        self.store, self.read_only = store, read_only

    def build(self, sources: list[MappingSource]) -> MappingSet:
        """Check and compile sources (raises ConfigError listing every problem)."""
        return MappingSet(sources, self.read_only)

    def save(self, mappings: MappingSet, *, by: str, note: str | None = None) -> int:
        """Store a checked mapping set as the new active version."""
        files = {s.name: s.text for s in mappings.sources}
        with self.store.transaction() as tx:
            return tx.mapping_versions.add_active(mappings.version, files, by=by, note=note)

    def all(self) -> list[MappingVersion]:
        """Every version, newest first."""
        with self.store.transaction() as tx:
            return tx.mapping_versions.newest_first()

    def sources(self, version_id: int) -> list[MappingSource]:
        """The files of one version."""
        with self.store.transaction() as tx:
            files = tx.mapping_versions.files(version_id)
        if files is None:
            raise KeyError(f"no mapping version {version_id}")
        return [MappingSource(name, text) for name, text in sorted(files.items())]

    def activate(self, version_id: int) -> MappingSet:
        """Make an earlier version active again (a rollback); returns it compiled."""
        mappings = self.build(self.sources(version_id))
        with self.store.transaction() as tx:
            tx.mapping_versions.activate(version_id)
        return mappings

    def active(self) -> MappingSet | None:
        """The active version, compiled; None before any was stored."""
        current = next((v for v in self.all() if v.active), None)
        return None if current is None else self.build(self.sources(current.id))

    def boot(self, mappings_dir: Path) -> MappingSet:
        """The mappings to start with (see the module docstring)."""
        files = self.build(read_sources(mappings_dir))
        known = {v.version for v in self.all()}
        if files.version not in known:
            self.save(files, by="files", note=f"loaded from {mappings_dir}")
            return files
        active = self.active()
        return active if active is not None else files
