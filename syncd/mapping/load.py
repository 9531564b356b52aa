"""Load mapping files and check them, reporting every problem at once with its place.

A place reads `mappings/jira.toml [entities.issue.fields.status] values`: the file, the TOML
table and the key, so an admin can go straight to the line.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncd.errors import ConfigError, Problem
from syncd.mapping.apply import EntityMapping
from syncd.mapping.paths import parse_path
from syncd.mapping.spec import FieldSpec, MappingFile, ValueTable
from syncd.mapping.template import parse_template
from syncd.mapping.transforms import TRANSFORMS
from syncd.model import RecordKind, canonical_value, enum_for, field_names

# Connector kinds declare which source paths can never be written (ids, server clocks).
ReadOnlyPaths = Mapping[str, Mapping[str, frozenset[str]]]  # connector -> entity -> paths


@dataclass(frozen=True)
class MappingSource:
    """A mapping file's text and where it came from."""

    name: str  # e.g. "mappings/jira.toml"
    text: str


def _where(source: str, loc: Iterable[Any], *, table: bool = False) -> str:
    """`file [table] key`, or `file [table]` when the problem is the whole table."""
    parts = [str(p) for p in loc]
    if not parts:
        return source
    if table:
        return f"{source} [{'.'.join(parts)}]"
    parents, key = parts[:-1], parts[-1]
    return f"{source} [{'.'.join(parents)}] {key}" if parents else f"{source} {key}"


_TOO_DEEP = "not a mapping: arrays or tables nested too deeply to read"


def parse_mapping(source: MappingSource) -> tuple[MappingFile | None, list[Problem]]:
    """Parse one file's TOML and shape; returns the problems instead of raising."""
    try:
        raw = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(source.name, f"not valid TOML: {exc}")]
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        return None, [Problem(source.name, _TOO_DEEP)]
    try:
        return MappingFile.model_validate(raw), []
    except RecursionError:
        return None, [Problem(source.name, _TOO_DEEP)]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [p for p in error["loc"] if not str(p).startswith("function-")]
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key (check the spelling; see docs/mappings.md)"
            elif error["type"] == "literal_error":
                message = f"{error['input']!r} is not allowed: {error['msg']}"
            problems.append(Problem(_where(source.name, loc), message))
        return None, problems


def check_mappings(
    files: Mapping[str, MappingFile], read_only: ReadOnlyPaths | None = None
) -> list[Problem]:
    """Every semantic problem across a set of parsed mapping files (name -> file)."""
    problems: list[Problem] = []
    by_connector = {f.connector: (name, f) for name, f in files.items()}
    policies: dict[tuple[RecordKind, str], list[tuple[str, str, FieldSpec]]] = defaultdict(list)
    for name, mapping in files.items():
        for entity, spec in mapping.entities.items():
            base = ["entities", entity]
            known = field_names(spec.kind)
            for path_key in ("key", "updated_at"):
                value = getattr(spec, path_key)
                if value is not None:
                    problems += _check_path(name, [*base, path_key], value)
            for i, link in enumerate(spec.links):
                where = [*base, "links", str(i)]
                problems += _check_path(name, [*where, "path"], link.path)
                other = by_connector.get(link.connector)
                if other is None:
                    problems.append(
                        Problem(
                            _where(name, [*where, "connector"]),
                            f"no mapping file is for connector {link.connector!r}",
                        )
                    )
                elif link.entity not in other[1].entities:
                    problems.append(
                        Problem(
                            _where(name, [*where, "entity"]),
                            f"{other[0]} has no entity {link.entity!r}",
                        )
                    )
                elif other[1].entities[link.entity].kind != spec.kind:
                    problems.append(
                        Problem(
                            _where(name, [*where, "entity"]),
                            f"links a {spec.kind} to a {other[1].entities[link.entity].kind}",
                        )
                    )
            pull_targets: dict[str, str] = {}
            push_targets: dict[tuple[str, ...], str] = {}
            for key, fspec in spec.fields.items():
                where = [*base, "fields", key]
                field = fspec.field or key
                if fspec.pulls:
                    if field in pull_targets:
                        problems.append(
                            Problem(
                                _where(name, where, table=True),
                                f"{field} is already pulled by [fields.{pull_targets[field]}]",
                            )
                        )
                    pull_targets[field] = key
                if fspec.pushes:
                    try:
                        target_path = parse_path(fspec.push_path or fspec.path)
                    except ValueError:
                        target_path = ()
                    if target_path and target_path in push_targets:
                        problems.append(
                            Problem(
                                _where(name, where, table=True),
                                f"writes the same place as [fields.{push_targets[target_path]}]",
                            )
                        )
                    push_targets[target_path] = key
                if field not in known:
                    problems.append(
                        Problem(
                            _where(name, where, table=True),
                            f"{spec.kind} records have no field {field!r}; "
                            f"known fields: {', '.join(sorted(known))}",
                        )
                    )
                    continue
                policies[(spec.kind, field)].append(
                    (mapping.connector, f"{name} [{'.'.join(where)}]", fspec)
                )
                problems += _check_field(name, where, mapping, spec.kind, field, fspec)
                ro = (read_only or {}).get(mapping.connector, {}).get(entity, frozenset())
                if fspec.pushes:
                    target = fspec.push_path if fspec.push_path is not None else fspec.path
                    try:
                        segments = parse_path(target)
                    except ValueError:
                        continue
                    dotted = ".".join(segments)
                    if segments == parse_path(spec.key) or any(
                        dotted == p or dotted.startswith(p + ".") for p in ro
                    ):
                        problems.append(
                            Problem(
                                _where(name, [*where, "direction"]),
                                f"pushes to {dotted!r}, which {mapping.connector} cannot "
                                'write; set direction = "pull" or a writable push_path',
                            )
                        )
        for table_name, table in mapping.values.items():
            problems += _check_table(name, table_name, table)
    problems += _check_policies(policies)
    return problems


def _check_path(name: str, where: list[str], path: str | list[str]) -> list[Problem]:
    try:
        parse_path(path)
    except ValueError as exc:
        return [Problem(_where(name, where), str(exc))]
    return []


def _check_field(
    name: str,
    where: list[str],
    mapping: MappingFile,
    kind: RecordKind,
    field: str,
    spec: FieldSpec,
) -> list[Problem]:
    problems = _check_path(name, [*where, "path"], spec.path)
    if spec.push_path is not None:
        problems += _check_path(name, [*where, "push_path"], spec.push_path)
    if spec.template is not None:
        problems += _check_template(name, where, spec)
    for transform in spec.transforms():
        if transform not in TRANSFORMS:
            problems.append(
                Problem(
                    _where(name, [*where, "transform"]),
                    f"unknown transform {transform!r}; known: {', '.join(sorted(TRANSFORMS))}",
                )
            )
        elif spec.pushes and TRANSFORMS[transform].push is None:
            problems.append(
                Problem(
                    _where(name, [*where, "transform"]),
                    f"transform {transform!r} cannot be reversed, so the field cannot push; "
                    'set direction = "pull"',
                )
            )
    if spec.values is None:
        return problems
    table = mapping.values.get(spec.values)
    if table is None:
        problems.append(
            Problem(_where(name, [*where, "values"]), f"no table [values.{spec.values}]")
        )
        return problems
    if "person" in spec.transforms():
        return problems  # a user table: values are emails, checked by the model on use
    for source_value, record_value in table.map.items():
        try:
            canonical_value(kind, field, record_value)
        except ValueError as exc:
            problems.append(
                Problem(_where(name, ["values", spec.values, "map", source_value]), str(exc))
            )
    if spec.pushes:
        enum = enum_for(kind, field)
        targets = set(table.map.values())
        for record_value in sorted(targets):
            if table.reverse(record_value) is None:
                sources = sorted(k for k, v in table.map.items() if v == record_value)
                problems.append(
                    Problem(
                        _where(name, ["values", spec.values, "push"]),
                        f"{record_value!r} comes from {sources}; say which one to write "
                        f'with {record_value} = "..."',
                    )
                )
        for member in enum or ():
            if member.value not in targets and member.value not in table.push:
                problems.append(
                    Problem(
                        _where(name, ["values", spec.values], table=True),
                        f"no {mapping.connector} value for {field} {member.value!r}: such "
                        "changes will be reported, not pushed",
                        warning=True,
                    )
                )
    return problems


def _check_template(name: str, where: list[str], spec: FieldSpec) -> list[Problem]:
    place = _where(name, [*where, "template"])
    try:
        template = parse_template(spec.template or "")
        own = parse_path(spec.path)
    except ValueError as exc:
        return [Problem(place, str(exc))]
    problems = []
    if template.slots.count(own) != 1:
        problems.append(
            Problem(
                place,
                f"must hold the field's own path {{{'.'.join(own)}}} exactly once: it is the "
                "part that is written back",
            )
        )
    if spec.transform is not None or spec.values is not None:
        problems.append(Problem(place, "a template field takes no transform or values table"))
    return problems


def _check_table(name: str, table_name: str, table: ValueTable) -> list[Problem]:
    problems = []
    for source_value in table.source_values or []:
        if table.lookup(source_value) is None:
            problems.append(
                Problem(
                    _where(name, ["values", table_name, "map"]),
                    f"source value {source_value!r} is not mapped",
                )
            )
    for record_value, source_value in table.push.items():
        if source_value not in table.map:
            problems.append(
                Problem(
                    _where(name, ["values", table_name, "push", record_value]),
                    f"{source_value!r} is not a source value of this table",
                )
            )
    return problems


def _check_policies(
    policies: Mapping[tuple[RecordKind, str], list[tuple[str, str, FieldSpec]]],
) -> list[Problem]:
    problems = []
    for (kind, field), specs in sorted(policies.items()):
        used = {spec.policy for _, _, spec in specs}
        places = ", ".join(where for _, where, _ in specs)
        if len(used) > 1:
            problems.append(
                Problem(places, f"{kind}.{field} has different policies: {sorted(used)}")
            )
        owners = sorted({connector for connector, _, spec in specs if spec.owner})
        initial = sorted({connector for connector, _, spec in specs if spec.initial})
        if len(initial) > 1:
            problems.append(
                Problem(
                    places,
                    f"{kind}.{field}: at most one connector may say initial = true "
                    f"(found {initial})",
                )
            )
        if initial and "owner_wins" in used:
            problems.append(
                Problem(
                    places,
                    f"{kind}.{field} is owner_wins: at first link the owner's value is kept; "
                    "initial is for latest_wins and manual fields",
                )
            )
        if "owner_wins" in used and len(owners) != 1:
            problems.append(
                Problem(
                    places,
                    f"{kind}.{field} is owner_wins, so exactly one connector must say "
                    f"owner = true (found {owners or 'none'})",
                )
            )
    return problems


class MappingSet:
    """Every connector's mapping, checked and compiled; `version` identifies the content."""

    def __init__(self, sources: list[MappingSource], read_only: ReadOnlyPaths | None = None):
        files: dict[str, MappingFile] = {}
        problems: list[Problem] = []
        for source in sources:
            parsed, found = parse_mapping(source)
            problems += found
            if parsed is not None:
                files[source.name] = parsed
        problems += check_mappings(files, read_only)
        errors = [p for p in problems if not p.warning]
        if errors:
            raise ConfigError(problems)
        self.warnings = [p for p in problems if p.warning]
        self.sources = sorted(sources, key=lambda s: s.name)
        self.files = {f.connector: f for f in files.values()}
        self.entities: dict[tuple[str, str], EntityMapping] = {
            (f.connector, entity): EntityMapping(f, entity)
            for f in files.values()
            for entity in f.entities
        }
        digest = hashlib.sha256()
        for source in self.sources:
            digest.update(source.name.encode() + b"\0" + source.text.encode() + b"\0")
        self.version = digest.hexdigest()[:16]

    def entity(self, connector: str, entity: str) -> EntityMapping:
        """The compiled mapping of one connector entity."""
        return self.entities[(connector, entity)]

    def for_connector(self, connector: str) -> list[EntityMapping]:
        """All entity mappings of a connector."""
        return [m for (c, _), m in self.entities.items() if c == connector]

    def linked_for(self, kind: RecordKind) -> list[EntityMapping]:
        """Every entity mapping that produces records of this kind."""
        return [m for m in self.entities.values() if m.kind == kind]


def read_sources(path: Path) -> list[MappingSource]:
    """The mapping files in a directory (or one file), as sources."""
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise ConfigError([Problem(str(path), "no mapping files (*.toml) found")])
    return [MappingSource(name=str(f), text=f.read_text(encoding="utf-8")) for f in files]


def load_mappings(path: Path, read_only: ReadOnlyPaths | None = None) -> MappingSet:
    """Load and check every mapping under `path`; raises ConfigError listing every problem."""
    return MappingSet(read_sources(path), read_only)
