"""Fill the store from a `Production`: project, departments, steps, people, the script user,
sequences (derived from shot sequence names), assets, shots and tasks.

Seeded rows are attributed to the production's first person (a coordinator), never to the
script's ApiUser, so syncd's echo suppression does not mistake the initial data for its own.
Link tuples are shared between records to keep a 100,000-task seed small.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncd_sandbox.production import Production

from .schema import EntityDef, Schema
from .store import Link, Record, Store


class _Seeder:
    def __init__(self, store: Store, production: Production, author: Link, epoch: datetime) -> None:
        self.store, self.production, self.author, self.epoch = store, production, author, epoch
        self.project: Link = ("Project", production.sg_project_id)
        self._links: dict[Link, Link] = {}

    def link(self, entity_type: str, record_id: int) -> Link:
        """One shared tuple per linked record, so 100,000 tasks do not hold 100,000 copies."""
        key = (entity_type, record_id)
        return self._links.setdefault(key, key)

    def row(
        self,
        entity_type: str,
        record_id: int,
        values: dict[str, Any],
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> None:
        entity: EntityDef = self.store.schema.entities[entity_type]
        slots = entity.blank()
        index = entity.index
        for name, value in values.items():
            slots[index[name]] = value
        if entity.project_scoped:
            slots[entity.index["project"]] = self.project
        # The site stores timestamps at second precision.
        created_at = (created or self.epoch).replace(microsecond=0)
        slots[entity.index["created_at"]] = created_at
        slots[entity.index["updated_at"]] = (updated or created_at).replace(microsecond=0)
        slots[entity.index["created_by"]] = slots[entity.index["updated_by"]] = self.author
        self.store.put(entity_type, Record(record_id, slots))


def status_codes(production: Production) -> list[str]:
    """The Task/Asset/Shot status list: the production's codes, then any stray code in use."""
    codes = list(dict.fromkeys(production.sg_status_codes))
    used = [
        *(a.status for a in production.assets),
        *(s.status for s in production.shots),
        *(t.status for t in production.sg_tasks),
    ]
    codes.extend(c for c in dict.fromkeys(used) if c not in codes)
    return codes


def seed_store(
    store: Store,
    production: Production,
    *,
    script_name: str,
    api_user_id: int,
    generate_events: bool,
) -> None:
    """Load every seeded record into an empty store."""
    schema: Schema = store.schema
    codes = tuple(status_codes(production))
    for name in ("Task", "Asset", "Shot", "Sequence"):
        schema.status_values[name] = codes
    people = production.people
    author: Link = ("HumanUser", people[0].sg_user_id) if people else ("ApiUser", api_user_id)
    stamps = [a.created_at for a in production.assets] + [t.created_at for t in production.sg_tasks]
    epoch = min(stamps) if stamps else datetime(2024, 1, 1, tzinfo=UTC)
    s = _Seeder(store, production, author, epoch)

    s.row(
        "Project",
        production.sg_project_id,
        {"name": production.sg_project_name, "sg_status": "Active"},
    )
    departments: dict[str, Link] = {}
    for number, department in enumerate(production.departments, start=1):
        departments[department.name] = ("Department", number)
        s.row("Department", number, {"name": department.name, "code": department.name[:3].upper()})
    for step in production.steps:
        s.row(
            "Step",
            step.id,
            {
                "code": step.name,
                "short_name": step.name,
                "department": departments.get(step.department),
            },
        )
    for person in people:
        first, _, last = person.display_name.partition(" ")
        s.row(
            "HumanUser",
            person.sg_user_id,
            {
                "name": person.display_name,
                "firstname": first,
                "lastname": last or None,
                "login": person.key,
                "email": person.email,
                "department": departments.get(person.department),
            },
        )
    s.row(
        "ApiUser",
        api_user_id,
        {
            "firstname": script_name,
            "lastname": "1.0",
            "description": "syncd integration script",
            "generate_event_log_entries": generate_events,
        },
    )

    sequences: dict[str, Link] = {}
    sequence_status = "ip" if "ip" in codes else (codes[0] if codes else None)
    for shot in production.shots:
        if shot.sequence not in sequences:
            sequences[shot.sequence] = ("Sequence", len(sequences) + 1)
            s.row(
                "Sequence",
                len(sequences),
                {"code": shot.sequence, "sg_status_list": sequence_status},
                created=shot.created_at,
            )
    for asset in production.assets:
        s.row(
            "Asset",
            asset.id,
            {
                "code": asset.code,
                "sg_asset_type": asset.asset_type,
                "sg_status_list": asset.status,
                "description": asset.description,
            },
            asset.created_at,
            asset.updated_at,
        )
    for shot in production.shots:
        s.row(
            "Shot",
            shot.id,
            {
                "code": shot.code,
                "sg_sequence": sequences[shot.sequence],
                "sg_status_list": shot.status,
                "sg_cut_in": shot.cut_in,
                "sg_cut_out": shot.cut_out,
            },
            shot.created_at,
            shot.updated_at,
        )

    for task in production.sg_tasks:
        s.row(
            "Task",
            task.id,
            {
                "content": task.content,
                "entity": s.link(task.entity_type, task.entity_id),
                "step": s.link("Step", task.step_id),
                "task_assignees": tuple(s.link("HumanUser", i) for i in task.assignee_ids),
                "sg_status_list": task.status,
                "start_date": task.start_date,
                "due_date": task.due_date,
                "est_in_mins": task.est_in_mins,
                "sg_milestone": task.milestone,
                "sg_jira_key": task.jira_key,
            },
            task.created_at,
            task.updated_at,
        )
