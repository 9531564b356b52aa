"""The emulated ShotGrid schema: entity types, their fields and data types, status lists.

Only the entity types and fields syncd touches are modelled. Field names, data types and the
`/schema/{entity}/fields` JSON shape follow the recorded `reads_the_schema` cassette. Reverse
links (`Asset.tasks`, `Sequence.shots`) are computed from the forward link and read-only here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

DataType = Literal[
    "text",
    "number",
    "duration",
    "date",
    "date_time",
    "checkbox",
    "status_list",
    "list",
    "entity",
    "multi_entity",
    "summary",
]
LINK_TYPES = frozenset({"entity", "multi_entity"})

DEFAULT_STATUS_CODES = ("wtg", "rdy", "ip", "rev", "apr", "fin", "hld", "omt")
STATUS_NAMES = {
    "wtg": "Waiting to Start",
    "rdy": "Ready to Start",
    "ip": "In Progress",
    "rev": "Pending Review",
    "apr": "Approved",
    "fin": "Final",
    "hld": "On Hold",
    "omt": "Omit",
    "cmpt": "Complete",
    "na": "N/A",
    "vwd": "Viewed",
    "cbb": "Could Be Better",
    "blk": "Blocked",
    "clsd": "Closed",
    "opn": "Open",
    "act": "Active",
    "dis": "Disabled",
}
USER_STATUS_CODES = ("act", "dis")
ASSET_TYPES = ("Character", "Environment", "Prop", "FX", "Vehicle", "Graphic", "Matte Painting")


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an entity type."""

    name: str
    data_type: DataType
    label: str
    editable: bool = True
    create_only: bool = False  # created_at / updated_at: a create body may set them, a PUT not
    valid_types: tuple[str, ...] = ()
    valid_values: tuple[str, ...] = ()  # `list` fields; status lists live on the Schema
    default: Any = None
    mandatory: bool = False
    reverse_of: tuple[str, str] | None = None  # (source type, source field) for computed links
    stored: bool = field(init=False)  # the value lives on the record, not computed on read

    def __post_init__(self) -> None:
        stored = (
            self.reverse_of is None
            and self.data_type != "summary"
            and self.name not in ("id", "cached_display_name")
        )
        object.__setattr__(self, "stored", stored)


@dataclass(slots=True)
class EntityDef:
    """One entity type: CamelCase name, snake-plural collection, fields."""

    type: str
    collection: str
    fields: tuple[FieldDef, ...]
    identity: tuple[str, ...]  # fields joined into cached_display_name
    project_scoped: bool
    label: str
    by_name: dict[str, FieldDef] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)  # stored field -> slot
    _blank: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        stored = [f for f in self.fields if f.stored]
        self.index = {f.name: i for i, f in enumerate(stored)}
        self._blank = tuple(
            () if f.data_type == "multi_entity" and f.default is None else f.default for f in stored
        )

    def blank(self) -> list[Any]:
        """Stored slots of a new record: defaults applied, multi-entity fields empty."""
        return list(self._blank)


def _f(name: str, data_type: DataType, label: str, **kwargs: Any) -> FieldDef:
    return FieldDef(name, data_type, label, **kwargs)


def _user_link(name: str, label: str) -> FieldDef:
    return _f(name, "entity", label, editable=False, valid_types=("HumanUser", "ApiUser"))


def _common() -> list[FieldDef]:
    return [
        _f("id", "number", "Id", editable=False),
        _f("cached_display_name", "text", "Cached Display Name"),
        _f("created_at", "date_time", "Date Created", editable=False, create_only=True),
        _f("updated_at", "date_time", "Date Updated", editable=False, create_only=True),
        _user_link("created_by", "Created by"),
        _user_link("updated_by", "Updated by"),
    ]


def _project() -> FieldDef:
    return _f("project", "entity", "Project", valid_types=("Project",))


def _status(default: str = "wtg") -> FieldDef:
    return _f("sg_status_list", "status_list", "Status", default=default)


def _entity(
    type_: str,
    collection: str,
    fields: Iterable[FieldDef],
    identity: tuple[str, ...],
    *,
    project_scoped: bool,
    label: str | None = None,
) -> EntityDef:
    return EntityDef(
        type_,
        collection,
        (*_common(), *fields),
        identity,
        project_scoped,
        label or type_,
    )


def _entities() -> list[EntityDef]:
    text: DataType = "text"
    number: DataType = "number"
    return [
        _entity(
            "Project",
            "projects",
            [
                _f("name", text, "Project Name", mandatory=True),
                _f(
                    "sg_status",
                    "list",
                    "Status",
                    valid_values=("Bidding", "Active", "Lost", "Hold"),
                ),
                _f("sg_description", text, "Description"),
                _f("archived", "checkbox", "Archived", default=False),
            ],
            ("name",),
            project_scoped=False,
        ),
        _entity(
            "Department",
            "departments",
            [_f("name", text, "Department Name", mandatory=True), _f("code", text, "Short Name")],
            ("name",),
            project_scoped=False,
        ),
        _entity(
            "Step",
            "steps",
            [
                _f("code", text, "Step Name", mandatory=True),
                _f("short_name", text, "Short Name"),
                _f("entity_type", text, "Entity Type"),
                _f("department", "entity", "Department", valid_types=("Department",)),
                _f("description", text, "Description"),
            ],
            ("code",),
            project_scoped=False,
        ),
        _entity(
            "HumanUser",
            "human_users",
            [
                _f("name", text, "Name"),
                _f("firstname", text, "First Name"),
                _f("lastname", text, "Last Name"),
                _f("login", text, "Login", mandatory=True),
                _f("email", text, "Email"),
                _f("sg_status_list", "status_list", "Status", default="act"),
                _f("department", "entity", "Department", valid_types=("Department",)),
            ],
            ("name",),
            project_scoped=False,
            label="Person",
        ),
        _entity(
            "ApiUser",
            "api_users",
            [
                _f("firstname", text, "Script Name", mandatory=True),
                _f("lastname", text, "Version"),
                _f("description", text, "Description"),
                _f("generate_event_log_entries", "checkbox", "Generate Events", default=True),
            ],
            ("firstname", "lastname"),
            project_scoped=False,
            label="Script",
        ),
        _entity(
            "Sequence",
            "sequences",
            [
                _f("code", text, "Sequence Name", mandatory=True),
                _status(),
                _f("description", text, "Description"),
                _project(),
                _f(
                    "shots",
                    "multi_entity",
                    "Shots",
                    editable=False,
                    valid_types=("Shot",),
                    reverse_of=("Shot", "sg_sequence"),
                ),
            ],
            ("code",),
            project_scoped=True,
        ),
        _entity(
            "Asset",
            "assets",
            [
                _f("code", text, "Asset Name", mandatory=True),
                _f("sg_asset_type", "list", "Type", valid_values=ASSET_TYPES),
                _status(),
                _f("description", text, "Description"),
                _project(),
                _f(
                    "tasks",
                    "multi_entity",
                    "Tasks",
                    editable=False,
                    valid_types=("Task",),
                    reverse_of=("Task", "entity"),
                ),
            ],
            ("code",),
            project_scoped=True,
        ),
        _entity(
            "Shot",
            "shots",
            [
                _f("code", text, "Shot Code", mandatory=True),
                _f("sg_sequence", "entity", "Sequence", valid_types=("Sequence",)),
                _status(),
                _f("sg_cut_in", number, "Cut In"),
                _f("sg_cut_out", number, "Cut Out"),
                _f("description", text, "Description"),
                _project(),
                _f(
                    "tasks",
                    "multi_entity",
                    "Tasks",
                    editable=False,
                    valid_types=("Task",),
                    reverse_of=("Task", "entity"),
                ),
            ],
            ("code",),
            project_scoped=True,
        ),
        _entity(
            "Task",
            "tasks",
            [
                _f("content", text, "Task Name", mandatory=True),
                _f("entity", "entity", "Link", valid_types=("Asset", "Shot", "Sequence")),
                _f("step", "entity", "Pipeline Step", valid_types=("Step",)),
                _f("task_assignees", "multi_entity", "Assigned To", valid_types=("HumanUser",)),
                _status(),
                _f("start_date", "date", "Start Date"),
                _f("due_date", "date", "Due Date"),
                _f("est_in_mins", "duration", "Bid"),
                _f("duration", "duration", "Duration"),
                _f("time_logs_sum", "summary", "Time Logged", editable=False),
                _f("sg_jira_key", text, "Jira Key"),
                _f("sg_jira_status", text, "Jira Status"),
                _f("sg_milestone", text, "Milestone"),
                _f("sg_description", text, "Description"),
                _project(),
            ],
            ("content",),
            project_scoped=True,
        ),
    ]


class Schema:
    """Every emulated entity type, addressable by type name or collection name."""

    def __init__(self, status_codes: Iterable[str] = DEFAULT_STATUS_CODES) -> None:
        self.entities: dict[str, EntityDef] = {e.type: e for e in _entities()}
        self._by_path = {**self.entities, **{e.collection: e for e in self.entities.values()}}
        codes = tuple(status_codes)
        self.status_values: dict[str, tuple[str, ...]] = {
            name: (USER_STATUS_CODES if name == "HumanUser" else codes)
            for name, e in self.entities.items()
            if "sg_status_list" in e.by_name
        }

    def resolve(self, name: str) -> EntityDef | None:
        """The entity type a URL segment names (`Task` or `tasks`), or None."""
        return self._by_path.get(name)

    def valid_values(self, entity: EntityDef, f: FieldDef) -> tuple[str, ...]:
        """The codes a status_list or list field accepts."""
        if f.data_type == "status_list":
            return self.status_values.get(entity.type, ())
        return f.valid_values

    def field_schema(self, entity: EntityDef, f: FieldDef) -> dict[str, Any]:
        """One field as `GET /schema/{entity}/fields/{field}` renders it."""

        def v(value: Any, editable: bool = False) -> dict[str, Any]:
            return {"value": value, "editable": editable}

        properties: dict[str, Any] = {
            "default_value": v(f.default),
            "summary_default": v("none", True),
        }
        if f.data_type in LINK_TYPES:
            properties["valid_types"] = v(list(f.valid_types), True)
        if f.data_type == "status_list":
            codes = self.valid_values(entity, f)
            properties["summary_default"] = v("status_list", True)
            properties["valid_values"] = v(list(codes), True)
            properties["display_values"] = v({c: STATUS_NAMES.get(c, c) for c in codes})
            properties["hidden_values"] = v([])
        elif f.data_type == "list":
            properties["valid_values"] = v(list(f.valid_values), True)
        return {
            "name": v(f.label, True),
            "description": v("", True),
            "custom_metadata": v("", True),
            "entity_type": v(entity.type),
            "data_type": v(f.data_type),
            "editable": v(f.editable),
            "mandatory": v(f.mandatory),
            "unique": v(False),
            "properties": properties,
            "visible": v(True),
            "ui_value_displayable": v(True),
        }
