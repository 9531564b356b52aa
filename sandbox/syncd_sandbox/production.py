"""The seeded production: what the world looks like before any tool renders it.

`dataset.generate()` builds a `Production`; each emulator seeds its own state from it
(`JiraSandbox.seed`, `SheetsSandbox.seed`, `ShotGridSandbox.seed`). Values are kept in
each tool's native vocabulary (ShotGrid status codes, Jira status names, sheet cells as
the strings a person typed), because the mess is the point: the mappings turn it into
one vocabulary, and the tests check they do.

Classes use slots so that a 100,000-issue production stays small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True, frozen=True)
class Milestone:
    """A delivery milestone, e.g. key "M2", name "Alpha"."""

    key: str
    name: str
    due: date


@dataclass(slots=True, frozen=True)
class Department:
    """A team with its weekly capacity in hours."""

    name: str
    capacity_hours_per_week: int


@dataclass(slots=True, frozen=True)
class Step:
    """A ShotGrid pipeline step (Model, Rig, Texture...) and the department doing it."""

    id: int
    name: str
    department: str


@dataclass(slots=True, frozen=True)
class Person:
    """Someone on the production, with their identity in each tool.

    `jira_email_visible` is False for people whose Jira privacy settings hide the email,
    as Jira Cloud does: the connector must then resolve them through the user table.
    """

    key: str
    display_name: str
    email: str
    department: str
    jira_account_id: str
    sg_user_id: int
    jira_email_visible: bool = True


@dataclass(slots=True, frozen=True)
class SgAsset:
    """A ShotGrid Asset; `status` is its `sg_status_list` code."""

    id: int
    code: str
    asset_type: str  # Character, Prop, Environment, Vehicle, FX
    status: str
    description: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, frozen=True)
class SgShot:
    """A ShotGrid Shot within a sequence."""

    id: int
    code: str
    sequence: str
    status: str
    cut_in: int
    cut_out: int
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, frozen=True)
class SgTask:
    """A ShotGrid pipeline Task on an Asset or a Shot.

    `jira_key` is the ShotGrid-side link (`sg_jira_key`), None when the task has no ticket
    or when only the Jira side records the link.
    """

    id: int
    content: str
    entity_type: str  # "Asset" or "Shot"
    entity_id: int
    step_id: int
    assignee_ids: tuple[int, ...]
    status: str
    start_date: date | None
    due_date: date | None
    est_in_mins: int | None
    milestone: str | None  # milestone key, custom field sg_milestone
    jira_key: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, frozen=True)
class JiraIssue:
    """A Jira issue in the production's project.

    `sg_task_id` is the Jira-side link (the "ShotGrid Task" custom field). `deleted` issues
    existed once (a ShotGrid task may still name them) but the emulator does not serve them.
    """

    id: int
    key: str
    summary: str
    issue_type: str  # Task, Bug, Story
    status: str  # workflow status name, e.g. "In Progress"
    assignee_account_id: str | None
    reporter_account_id: str
    due_date: date | None
    original_estimate_seconds: int | None
    time_spent_seconds: int | None
    labels: tuple[str, ...]
    department: str | None  # custom field "Department" (select)
    milestone: str | None  # custom field "Milestone" (select), a milestone name
    sprint: str | None
    story_points: float | None
    sg_task_id: int | None
    created: datetime
    updated: datetime
    deleted: bool = False


@dataclass(slots=True, frozen=True)
class SheetTab:
    """One worksheet as a person keeps it: a header row then rows of cell strings."""

    title: str
    rows: tuple[tuple[str, ...], ...]


@dataclass(slots=True, frozen=True)
class Production:
    """Everything the three emulators are seeded with, generated from one seed."""

    name: str
    seed: int
    jira_project_key: str
    jira_project_name: str
    sg_project_id: int
    sg_project_name: str
    spreadsheet_id: str
    spreadsheet_title: str
    milestones: tuple[Milestone, ...]
    departments: tuple[Department, ...]
    steps: tuple[Step, ...]
    people: tuple[Person, ...]
    assets: tuple[SgAsset, ...]
    shots: tuple[SgShot, ...]
    sg_tasks: tuple[SgTask, ...]
    jira_issues: tuple[JiraIssue, ...]
    invoices: SheetTab
    budget: SheetTab
    jira_statuses: tuple[str, ...]  # the workflow, in order, including one nobody mapped
    sg_status_codes: tuple[str, ...]  # valid sg_status_list codes, including one nobody mapped
    notes: dict[str, str] = field(default_factory=dict)  # what mess was planted where
