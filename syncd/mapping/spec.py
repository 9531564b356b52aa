"""The shape of a mapping file (`mappings/<connector>.toml`), as pydantic models.

A mapping file says, for one connector, which source entities become which record kind,
how each source field maps to a record field and back, who owns it and what happens when
two tools disagree, which value tables translate statuses and people, and which field links
a source record to the same work in another tool. See docs/mappings.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from syncd.model import RecordKind

Direction = Literal["pull", "push", "both"]
Policy = Literal["owner_wins", "latest_wins", "manual"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    """How one record field maps to a source field, both ways."""

    field: str | None = Field(
        None, description="record field, when the table key is an alias (one field, two places)"
    )
    path: str | list[str] = Field(description="where the value sits in the source record")
    push_path: str | list[str] | None = Field(
        None, description="where to write it, when that differs from where it is read"
    )
    direction: Direction = Field("both", description="pull, push or both")
    policy: Policy = Field("manual", description="what happens when two tools disagree")
    owner: bool = Field(False, description="this tool owns the field (for owner_wins)")
    initial: bool = Field(
        False,
        description="at first link, when the tools' values differ, this tool's value is kept",
    )
    template: str | None = Field(
        None,
        description='the record value composed of source paths, e.g. "[{entity.name}] {content}"'
        " (the field's own path is the part written back)",
    )
    transform: str | list[str] | None = Field(None, description="named transform(s), in order")
    values: str | None = Field(None, description="name of a value table in [values]")
    formats: list[str] | None = Field(None, description="date formats, first one is written")
    entity_type: str | None = Field(None, description="entity type for entity_id transforms")
    default: Any = Field(None, description="record value when the source cell is blank")

    @property
    def pulls(self) -> bool:
        """The field is read from this source."""
        return self.direction in ("pull", "both")

    @property
    def pushes(self) -> bool:
        """The field is written to this source."""
        return self.direction in ("push", "both")

    def transforms(self) -> list[str]:
        """Transform names in pull order."""
        if self.transform is None:
            return []
        return [self.transform] if isinstance(self.transform, str) else list(self.transform)


class LinkSpec(_Spec):
    """A source field that holds the id of the same work in another connector."""

    path: str | list[str]
    connector: str
    entity: str


class EntitySpec(_Spec):
    """One source entity (Jira issue, ShotGrid Task, a sheet tab) and the record kind it becomes."""

    kind: RecordKind
    key: str | list[str] = Field(description="path to the source record's own id")
    updated_at: str | list[str] | None = Field(None, description="path to its last-change time")
    links: list[LinkSpec] = []
    fields: dict[str, FieldSpec]


class ValueTable(_Spec):
    """A value table: source value -> record value (status tables, user tables)."""

    map: dict[str, str]
    push: dict[str, str] = Field(
        default_factory=dict,
        description="record value -> source value, where several source values share one",
    )
    source_values: list[str] | None = Field(
        None, description="every value the tool can hold; each must be mapped"
    )
    ignore_case: bool = False

    def lookup(self, source_value: str) -> str | None:
        """The record value for a source value, or None if unmapped."""
        if source_value in self.map:
            return self.map[source_value]
        if self.ignore_case:
            folded = source_value.strip().casefold()
            for key, value in self.map.items():
                if key.strip().casefold() == folded:
                    return value
        return None

    def reverse(self, record_value: str) -> str | None:
        """The source value to write for a record value; None if none or not unique."""
        if record_value in self.push:
            return self.push[record_value]
        candidates = [k for k, v in self.map.items() if v == record_value]
        return candidates[0] if len(candidates) == 1 else None


class MappingFile(_Spec):
    """A whole mapping file: one connector's entities and value tables."""

    connector: str = Field(description="connector name, as in [connectors.<name>] of the config")
    description: str | None = None
    entities: dict[str, EntitySpec]
    values: dict[str, ValueTable] = {}
