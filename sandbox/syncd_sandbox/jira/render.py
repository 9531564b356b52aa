"""Issue and resource JSON exactly as Jira Cloud renders it, for REST v2/v3 and webhooks.

Shared sub-objects (users, statuses, options...) are built once per API root and reused:
they are never mutated, and a page of 100 issues reuses the same few dicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any, TypeVar

from syncd_sandbox.jira.catalog import Catalog, Transition, User
from syncd_sandbox.jira.formats import (
    adf_from_text,
    format_date,
    format_duration,
    format_timestamp,
)
from syncd_sandbox.jira.store import History, IssueRecord, IssueStore

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
Json = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class View:
    """Who is looking: the site's base URL and the REST version (`2`, `3` or `latest`)."""

    base: str
    version: str
    api: str = field(init=False)  # the REST root, e.g. `http://127.0.0.1:8000/rest/api/3`

    def __post_init__(self) -> None:
        object.__setattr__(self, "api", f"{self.base}/rest/api/{self.version}")

    @property
    def rich_text(self) -> bool:
        """Whether rich text is Atlassian Document Format (v3) rather than a string (v2)."""
        return self.version == "3"


def select_fields(
    requested: Sequence[str], *, navigable: Iterable[str], every: Sequence[str]
) -> tuple[str, ...]:
    """The field ids a `fields` parameter asks for: ids, `*all`, `*navigable`, `-id` exclusions."""
    chosen: list[str] = []
    excluded: set[str] = set()
    for item in (part.strip() for entry in requested for part in entry.split(",")):
        if item == "*all":
            chosen.extend(every)
        elif item == "*navigable":
            chosen.extend(navigable)
        elif item.startswith("-"):
            excluded.add(item[1:])
        elif item in every:
            chosen.append(item)
    return tuple(f for f in dict.fromkeys(chosen) if f not in excluded)


class Renderer:
    """Renders issues and the resources around them for one site."""

    def __init__(self, catalog: Catalog, store: IssueStore, zone: tzinfo) -> None:
        self.catalog, self.store, self.zone = catalog, store, zone
        self._cache: dict[tuple[object, ...], Any] = {}
        self._options = {o.id: o for o in (*catalog.departments, *catalog.milestones)}
        ids = catalog.field_ids
        self._renderers: dict[str, Callable[[IssueRecord, View], Any]] = {
            "summary": lambda r, _v: r.summary,
            "description": self._description,
            "status": lambda r, v: self.status(r.status, v),
            "assignee": lambda r, v: self.user(r.assignee, v),
            "reporter": lambda r, v: self.user(r.reporter, v),
            "duedate": lambda r, _v: format_date(r.due),
            "timeoriginalestimate": lambda r, _v: r.original_estimate,
            "timeestimate": lambda r, _v: r.remaining_estimate,
            "timespent": lambda r, _v: r.time_spent,
            "aggregatetimeoriginalestimate": lambda r, _v: r.original_estimate,
            "aggregatetimeestimate": lambda r, _v: r.remaining_estimate,
            "aggregatetimespent": lambda r, _v: r.time_spent,
            "timetracking": lambda r, _v: timetracking(r),
            "created": lambda r, _v: self.timestamp(r.created),
            "updated": lambda r, _v: self.timestamp(r.updated),
            "labels": lambda r, _v: list(r.labels),
            "project": lambda _r, v: self.project(v),
            "issuetype": lambda r, v: self.issue_type(r.issue_type, v),
            f"customfield_{ids.sprint}": self._sprint,
            f"customfield_{ids.story_points}": lambda r, _v: r.story_points,
            # A Jira number field is a float on the wire: 1234 comes back as 1234.0.
            f"customfield_{ids.sg_task}": lambda r, _v: _float(r.sg_task_id),
            f"customfield_{ids.department}": lambda r, v: self.option(r.department, v),
            f"customfield_{ids.milestone}": lambda r, v: self.option(r.milestone, v),
            f"customfield_{ids.pipeline_status}": lambda r, _v: r.pipeline_status,
        }
        self.every_field = tuple(self._renderers)
        navigable = {f.id for f in catalog.fields if f.navigable}
        self.navigable_fields = tuple(f for f in self.every_field if f in navigable)

    def timestamp(self, millis: int) -> str:
        """A Jira timestamp in the site's time zone."""
        return format_timestamp(millis, self.zone)

    def _cached(self, key: tuple[object, ...], build: Callable[[], T]) -> T:
        found: T | None = self._cache.get(key)
        if found is None:
            found = self._cache[key] = build()
        return found

    def user(self, account_id: str | None, view: View, *, with_email: bool = False) -> Json | None:
        """A user object; `emailAddress` only when the person lets it show (or it is `myself`)."""
        user = self.catalog.users.get(account_id) if account_id else None
        if user is None:
            return None
        return self._cached(
            ("user", user.account_id, view.api, with_email), lambda: _user(user, view, with_email)
        )

    def status(self, index: int, view: View) -> Json:
        """A status with its category."""
        return self._cached(("status", index, view.api), lambda: self._status(index, view))

    def _status(self, index: int, view: View) -> Json:
        status = self.catalog.workflow.statuses[index]
        category_id, category_name, color = _CATEGORIES[status.category]
        return {
            "self": f"{view.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{view.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{view.api}/statuscategory/{category_id}",
                "id": category_id,
                "key": status.category,
                "colorName": color,
                "name": category_name,
            },
        }

    def project(self, view: View) -> Json:
        """The project reference embedded in issues."""
        catalog = self.catalog
        return self._cached(
            ("project", view.api),
            lambda: {
                "self": f"{view.api}/project/{catalog.project_id}",
                "id": catalog.project_id,
                "key": catalog.project_key,
                "name": catalog.project_name,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": _avatars(
                    f"{view.base}/rest/api/3/universal_avatar/view/type/project"
                ),
            },
        )

    def issue_type(self, index: int, view: View) -> Json:
        """An issue type reference."""
        kind = self.catalog.issue_types[index]
        return self._cached(
            ("issuetype", index, view.api),
            lambda: {
                "self": f"{view.api}/issuetype/{kind.id}",
                "id": kind.id,
                "description": kind.description,
                "iconUrl": f"{view.base}/images/icons/issuetypes/{kind.name.lower()}.svg",
                "name": kind.name,
                "subtask": False,
                "hierarchyLevel": 0,
            },
        )

    def option(self, option_id: int | None, view: View) -> Json | None:
        """A select option `{"self", "value", "id"}`."""
        option = self._options.get(option_id) if option_id is not None else None
        if option is None:
            return None
        return self._cached(
            ("option", option.id, view.api),
            lambda: {
                "self": f"{view.api}/customFieldOption/{option.id}",
                "value": option.value,
                "id": str(option.id),
            },
        )

    def _sprint(self, record: IssueRecord, _view: View) -> list[Json] | None:
        sprint = self.catalog.sprint(record.sprint) if record.sprint is not None else None
        if sprint is None:
            return None

        def build() -> list[Json]:
            body: Json = {
                "id": sprint.id,
                "name": sprint.name,
                "state": sprint.state,
                "boardId": 1,
                "goal": "",
            }
            if sprint.start and sprint.end:
                body["startDate"] = f"{sprint.start.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.000Z"
                body["endDate"] = f"{sprint.end.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.000Z"
                if sprint.state == "closed":
                    body["completeDate"] = body["endDate"]
            return [body]

        return self._cached(("sprint", sprint.id), build)

    def _description(self, record: IssueRecord, view: View) -> Any:
        return adf_from_text(record.description) if view.rich_text else record.description

    def fields(self, record: IssueRecord, names: Iterable[str], view: View) -> Json:
        """The `fields` object with the given field ids."""
        return {name: self._renderers[name](record, view) for name in names}

    def issue(
        self,
        record: IssueRecord,
        names: Sequence[str] | None,
        view: View,
        expand: frozenset[str] = frozenset(),
    ) -> Json:
        """An issue; `names=None` renders the bare `{"id"}` search/jql gives by default."""
        if names is None:
            return {"id": str(record.id)}
        body: Json = {
            "expand": ISSUE_EXPAND,
            "id": str(record.id),
            "self": f"{view.api}/issue/{record.id}",
            "key": self.store.key(record),
            "fields": self.fields(record, names, view),
        }
        if "names" in expand:
            fields = {f.id: f.name for f in self.catalog.fields}
            body["names"] = {name: fields.get(name, name) for name in names}
        if "transitions" in expand:
            workflow = self.catalog.workflow
            body["transitions"] = [
                self.transition(t, view) for t in workflow.available(record.status)
            ]
        if "changelog" in expand:
            histories = [self.history(h, view) for h in record.histories or ()]
            body["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        return body

    def history(self, history: History, view: View) -> Json:
        """One changelog history."""
        return {
            "id": str(history.id),
            "author": self.user(history.author, view),
            "created": self.timestamp(history.created),
            "items": [
                {
                    "field": item.field,
                    "fieldtype": item.field_type,
                    "fieldId": item.field_id,
                    "from": item.from_value,
                    "fromString": item.from_string,
                    "to": item.to_value,
                    "toString": item.to_string,
                }
                for item in history.items
            ],
        }

    def transition(self, transition: Transition, view: View) -> Json:
        """A transition as `GET .../transitions` lists it."""
        return {
            "id": transition.id,
            "name": transition.name,
            "to": self.status(transition.to, view),
            "hasScreen": False,
            "isGlobal": transition.is_global,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }

    def field_list(self) -> list[Json]:
        """`GET /field`: every field with its clause names and schema."""
        out: list[Json] = []
        for definition in self.catalog.fields:
            entry: Json = {
                "id": definition.id,
                "key": definition.id,
                "name": definition.name,
                "custom": definition.custom,
                "orderable": definition.id != "issuekey",
                "navigable": definition.navigable,
                "searchable": bool(definition.clause_names),
                "clauseNames": list(definition.clause_names),
            }
            if definition.custom:
                entry["untranslatedName"] = definition.name
            if definition.schema is not None:
                entry["schema"] = definition.schema
            out.append(entry)
        return out


def timetracking(record: IssueRecord) -> Json:
    """The `timetracking` object: the durations that are set, as strings and seconds."""
    out: Json = {}
    parts = (
        ("originalEstimate", record.original_estimate),
        ("remainingEstimate", record.remaining_estimate),
        ("timeSpent", record.time_spent),
    )
    for name, seconds in parts:
        if seconds is not None:
            out[name] = format_duration(seconds)
    for name, seconds in parts:
        if seconds is not None:
            out[f"{name}Seconds"] = seconds
    return out


def _float(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def _avatars(prefix: str) -> dict[str, str]:
    return {
        size: f"{prefix}/avatar/10424?size={size}" for size in ("48x48", "24x24", "16x16", "32x32")
    }


def _user(user: User, view: View, with_email: bool) -> Json:
    digest = hashlib.md5(user.account_id.encode(), usedforsecurity=False).hexdigest()
    body: Json = {
        "self": f"{view.api}/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "accountType": "atlassian",
    }
    if user.email_visible or with_email:
        body["emailAddress"] = user.email
    body.update(
        {
            "avatarUrls": {
                size: f"https://secure.gravatar.com/avatar/{digest}?d=mm&s={size.split('x')[0]}"
                for size in ("48x48", "24x24", "16x16", "32x32")
            },
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
        }
    )
    return body
