"""What a Jira Cloud site knows besides its issues: people, workflow, issue types, fields, options.

Built once from a `Production` by `build_catalog`; immutable afterwards, so request handlers
read it without locking. Issues reference its entries by index or id (see `store.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd_sandbox.production import JiraIssue, Production

# Status ids as a fresh Jira Cloud site numbers its three default statuses.
_WELL_KNOWN_STATUS_IDS = {"to do": "10000", "in progress": "3", "done": "10001"}
_DONE_NAMES = frozenset({"done", "closed", "resolved", "cancelled", "won't do"})
_NEW_NAMES = frozenset({"to do", "backlog", "open", "new", "selected for development"})
SPRINT_LENGTH = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class User:
    """A Jira user; `email_visible` mirrors the person's profile visibility setting."""

    account_id: str
    display_name: str
    email: str
    email_visible: bool
    time_zone: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Status:
    """A workflow status and its category key (`new`, `indeterminate` or `done`)."""

    id: str
    name: str
    category: str


@dataclass(frozen=True, slots=True)
class Transition:
    """A workflow transition to status number `to` (an index into `Workflow.statuses`)."""

    id: str
    name: str
    to: int
    is_global: bool


@dataclass(frozen=True, slots=True)
class Workflow:
    """Transitions per status, as a Jira workflow has them: from every status but the done one
    there is a transition to each other status; the done status only offers "Reopen" (to the
    initial status). A transition is taken only from a status it starts at."""

    NAME = "Software workflow"

    statuses: tuple[Status, ...]
    initial: int
    done: int | None
    reopen: Transition | None

    def index_of(self, name: str) -> int | None:
        """The status index for a name (case-insensitive), or None."""
        folded = name.casefold()
        for index, status in enumerate(self.statuses):
            if status.name.casefold() == folded:
                return index
        return None

    def index_of_id(self, status_id: str) -> int | None:
        """The status index for a status id, or None."""
        for index, status in enumerate(self.statuses):
            if status.id == status_id:
                return index
        return None

    def available(self, current: int) -> list[Transition]:
        """Transitions an issue in status `current` can take."""
        if current == self.done and self.reopen is not None:
            return [self.reopen]
        # Not global: Jira's global transitions are offered from every status, done included.
        return [self._into(index) for index in range(len(self.statuses)) if index != current]

    def _into(self, index: int) -> Transition:
        return Transition(str(11 + 10 * index), self.statuses[index].name, index, is_global=False)

    def transitions_from(self) -> list[tuple[Transition, list[int]]]:
        """Every transition with the statuses it starts at (the workflow as a whole)."""
        sources = [n for n in range(len(self.statuses)) if n != self.done or self.reopen is None]
        listed = [
            (self._into(i), [n for n in sources if n != i]) for i in range(len(self.statuses))
        ]
        if self.reopen is not None and self.done is not None:
            listed.append((self.reopen, [self.done]))
        return [(t, froms) for t, froms in listed if froms]


@dataclass(frozen=True, slots=True)
class IssueType:
    """An issue type such as Task, Bug or Story."""

    id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a single-select custom field."""

    id: int
    value: str


@dataclass(frozen=True, slots=True)
class Sprint:
    """A Jira Software sprint as the Sprint field shows it."""

    id: int
    name: str
    state: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class CustomFieldIds:
    """The numeric ids of the custom fields; per site in real Jira, so configurable here."""

    story_points: int = 10016
    sprint: int = 10020
    sg_task: int = 10030
    department: int = 10031
    milestone: int = 10032
    pipeline_status: int = 10033


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One entry of `GET /field`."""

    id: str
    name: str
    custom: bool
    schema: dict[str, object] | None
    clause_names: tuple[str, ...]
    navigable: bool = True


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything about the site except its issues."""

    project_id: str
    project_key: str
    project_name: str
    users: dict[str, User]
    integration: User
    workflow: Workflow
    issue_types: tuple[IssueType, ...]
    field_ids: CustomFieldIds
    departments: tuple[Option, ...]
    milestones: tuple[Option, ...]
    sprints: tuple[Sprint, ...]
    fields: tuple[FieldDef, ...]

    def user(self, ident: str) -> User | None:
        """A user by accountId or email (case-insensitive email)."""
        found = self.users.get(ident)
        if found is not None:
            return found
        folded = ident.casefold()
        return next((u for u in self.users.values() if u.email.casefold() == folded), None)

    def find_users(self, query: str, account_id: str | None = None) -> list[User]:
        """`user/search`: an exact accountId, or a prefix of a name word or a visible email."""
        if account_id is not None:
            return [u for u in self.users.values() if u.account_id == account_id]
        text = query.strip()
        folded = text.casefold()
        if not folded:
            return []
        return [
            user
            for user in self.users.values()
            if user.account_id == text
            or user.email.casefold() == folded
            or (user.email_visible and user.email.casefold().startswith(folded))
            or user.display_name.casefold().startswith(folded)
            or any(word.startswith(folded) for word in user.display_name.casefold().split())
        ]

    def issue_type(self, ident: str) -> int | None:
        """An issue type index by id or name (case-insensitive)."""
        folded = ident.casefold()
        for index, kind in enumerate(self.issue_types):
            if kind.id == ident or kind.name.casefold() == folded:
                return index
        return None

    def sprint(self, sprint_id: int) -> Sprint | None:
        """A sprint by id (ids are 1..n in order)."""
        if 1 <= sprint_id <= len(self.sprints):
            return self.sprints[sprint_id - 1]
        return None

    def field(self, field_id: str) -> FieldDef | None:
        """A field by id."""
        return next((f for f in self.fields if f.id == field_id), None)


def find_option(
    options: Sequence[Option], *, value: str | None = None, option_id: int | None = None
) -> Option | None:
    """An option by its value (exact) or its id."""
    for option in options:
        if option.value == value or option.id == option_id:
            return option
    return None


def build_catalog(
    production: Production,
    *,
    integration: User,
    time_zone: str,
    field_ids: CustomFieldIds,
    now: datetime,
) -> Catalog:
    """The site catalog for a production: its people, workflow, fields and options."""
    users = {integration.account_id: integration}
    for person in production.people:
        users[person.jira_account_id] = User(
            account_id=person.jira_account_id,
            display_name=person.display_name,
            email=person.email,
            email_visible=person.jira_email_visible,
            time_zone=time_zone,
        )
    issues = production.jira_issues
    statuses = _unique([*production.jira_statuses, *(i.status for i in issues)])
    types = _unique(["Task", "Bug", "Story", *(i.issue_type for i in issues)])
    departments = _unique(
        [*(d.name for d in production.departments), *(i.department for i in issues if i.department)]
    )
    milestones = _unique(
        [*(m.name for m in production.milestones), *(i.milestone for i in issues if i.milestone)]
    )
    return Catalog(
        project_id="10000",
        project_key=production.jira_project_key,
        project_name=production.jira_project_name,
        users=users,
        integration=integration,
        workflow=_workflow(statuses),
        issue_types=tuple(
            IssueType(id=str(10001 + n), name=name, description=f"A {name.lower()}.")
            for n, name in enumerate(types)
        ),
        field_ids=field_ids,
        departments=tuple(Option(10100 + n, name) for n, name in enumerate(departments)),
        milestones=tuple(Option(10200 + n, name) for n, name in enumerate(milestones)),
        sprints=_sprints(issues, now),
        fields=_fields(field_ids),
    )


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _category(name: str, index: int, count: int) -> str:
    folded = name.casefold()
    if folded in _DONE_NAMES:
        return "done"
    if folded in _NEW_NAMES or (index == 0 and count > 1):
        return "new"
    return "indeterminate"


def _workflow(names: Sequence[str]) -> Workflow:
    if not names:
        names = ["To Do", "In Progress", "Done"]
    next_id = 10002
    statuses: list[Status] = []
    for index, name in enumerate(names):
        status_id = _WELL_KNOWN_STATUS_IDS.get(name.casefold())
        if status_id is None:
            status_id, next_id = str(next_id), next_id + 1
        statuses.append(Status(status_id, name, _category(name, index, len(names))))
    initial = next((n for n, s in enumerate(statuses) if s.category == "new"), 0)
    done = next((n for n, s in enumerate(statuses) if s.name.casefold() == "done"), None)
    if done is None:
        done = next((n for n, s in enumerate(statuses) if s.category == "done"), None)
    reopen = None
    if done is not None and done != initial:
        reopen = Transition(str(11 + 10 * len(statuses)), "Reopen", initial, is_global=False)
    return Workflow(tuple(statuses), initial, done, reopen)


def _sprint_number(name: str) -> tuple[int, str]:
    match = re.search(r"(\d+)\s*$", name)
    return (int(match.group(1)) if match else 0, name)


def _sprints(issues: Sequence[JiraIssue], now: datetime) -> tuple[Sprint, ...]:
    """Sprints in name order: the last is future, the one before it active, the rest closed.

    The active sprint is the one around the production's latest activity (or `now` without
    issues), so a seeded site looks the same whenever it is started.
    """
    names = sorted({i.sprint for i in issues if i.sprint}, key=_sprint_number)
    anchor = max((i.updated for i in issues), default=now)
    active = max(len(names) - 2, 0)
    active_start = anchor.replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=7)
    sprints = []
    for index, name in enumerate(names):
        if len(names) > 1 and index == len(names) - 1:
            state, start, end = "future", None, None
        else:
            state = "active" if index == active else "closed"
            start = active_start + (index - active) * SPRINT_LENGTH
            end = start + SPRINT_LENGTH
        sprints.append(Sprint(index + 1, name, state, start, end))
    return tuple(sprints)


def _system(
    field_id: str,
    name: str,
    schema_type: str,
    *,
    items: str | None = None,
    clause_names: tuple[str, ...] | None = None,
    navigable: bool = True,
) -> FieldDef:
    schema: dict[str, object] = {"type": schema_type, "system": field_id}
    if items:
        schema["items"] = items
    return FieldDef(
        id=field_id,
        name=name,
        custom=False,
        schema=schema,
        clause_names=clause_names or (field_id,),
        navigable=navigable,
    )


def _custom(number: int, name: str, kind: str, schema_type: str) -> FieldDef:
    schema: dict[str, object] = {"type": schema_type, "custom": kind, "customId": number}
    if schema_type == "array":
        schema["items"] = "json"
    return FieldDef(
        id=f"customfield_{number}",
        name=name,
        custom=True,
        schema=schema,
        clause_names=(f"cf[{number}]", name),
    )


def _fields(ids: CustomFieldIds) -> tuple[FieldDef, ...]:
    plugin = "com.atlassian.jira.plugin.system.customfieldtypes"
    return (
        FieldDef("issuekey", "Key", False, None, ("id", "issue", "issuekey", "key")),
        _system("summary", "Summary", "string"),
        _system("description", "Description", "string"),
        _system("status", "Status", "status"),
        _system("assignee", "Assignee", "user"),
        _system("reporter", "Reporter", "user"),
        _system("duedate", "Due date", "date", clause_names=("due", "duedate")),
        _system(
            "timeoriginalestimate",
            "Original estimate",
            "number",
            clause_names=("originalEstimate", "timeoriginalestimate"),
        ),
        _system(
            "timeestimate",
            "Remaining Estimate",
            "number",
            clause_names=("remainingEstimate", "timeestimate"),
        ),
        _system("timespent", "Time Spent", "number", clause_names=("timespent",)),
        _system("aggregatetimeoriginalestimate", "Σ Original Estimate", "number", clause_names=()),
        _system("aggregatetimeestimate", "Σ Remaining Estimate", "number", clause_names=()),
        _system("aggregatetimespent", "Σ Time Spent", "number", clause_names=()),
        _system("timetracking", "Time tracking", "timetracking", clause_names=(), navigable=False),
        _system("created", "Created", "datetime", clause_names=("created", "createdDate")),
        _system("updated", "Updated", "datetime", clause_names=("updated", "updatedDate")),
        _system("labels", "Labels", "array", items="string"),
        _system("project", "Project", "project"),
        _system("issuetype", "Issue Type", "issuetype", clause_names=("issuetype", "type")),
        _custom(ids.sprint, "Sprint", "com.pyxis.greenhopper.jira:gh-sprint", "array"),
        _custom(
            ids.story_points,
            "Story point estimate",
            "com.pyxis.greenhopper.jira:jsw-story-points",
            "number",
        ),
        _custom(ids.sg_task, "ShotGrid Task", f"{plugin}:float", "number"),
        _custom(ids.department, "Department", f"{plugin}:select", "option"),
        _custom(ids.milestone, "Milestone", f"{plugin}:select", "option"),
        _custom(ids.pipeline_status, "Pipeline Status", f"{plugin}:textfield", "string"),
    )
