"""Validate an edit (`{"fields": ..., "update": ...}`) the way Jira does, then describe it.

`EditPlanner.plan` checks every field first and refuses the whole edit with Jira's `errors`
dict if any is wrong, so nothing is half-applied. `EditPlanner.changes` turns the accepted
values into the record's new attributes and the changelog items Jira would write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from syncd_sandbox.jira.catalog import Catalog, Option, find_option
from syncd_sandbox.jira.errors import field_errors
from syncd_sandbox.jira.formats import parse_date, parse_duration, text_from_adf
from syncd_sandbox.jira.store import ChangeItem, IssueRecord

Values = dict[str, Any]
CANNOT_SET = "Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
_TEXT_LIMIT = 255


class Refusal(ValueError):
    """One field's value is not acceptable; the message is what Jira puts in `errors`."""


class EditPlanner:
    """Parses edits against one site's fields, options, users and sprints."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        ids = catalog.field_ids
        self._custom_names = {
            "story_points": (f"customfield_{ids.story_points}", "Story point estimate"),
            "sg_task_id": (f"customfield_{ids.sg_task}", "ShotGrid Task"),
            "pipeline_status": (f"customfield_{ids.pipeline_status}", "Pipeline Status"),
            "department": (f"customfield_{ids.department}", "Department"),
            "milestone": (f"customfield_{ids.milestone}", "Milestone"),
            "sprint": (f"customfield_{ids.sprint}", "Sprint"),
        }
        self._parsers: dict[str, Callable[[Any, bool], Values]] = {
            "summary": lambda v, _rich: {"summary": _summary(v)},
            "description": lambda v, rich: {"description": _description(v, rich)},
            "duedate": lambda v, _rich: {"due": _due(v)},
            "assignee": lambda v, _rich: {"assignee": self._assignee(v)},
            "labels": lambda v, _rich: {"labels": _labels(v)},
            "timetracking": lambda v, _rich: _timetracking(v),
            f"customfield_{ids.story_points}": lambda v, _r: {"story_points": _number(v)},
            f"customfield_{ids.sg_task}": lambda v, _r: {"sg_task_id": _number(v)},
            f"customfield_{ids.pipeline_status}": lambda v, _r: {"pipeline_status": _text(v)},
            f"customfield_{ids.department}": lambda v, _r: {
                "department": _option(catalog.departments, v)
            },
            f"customfield_{ids.milestone}": lambda v, _r: {
                "milestone": _option(catalog.milestones, v)
            },
            f"customfield_{ids.sprint}": lambda v, _r: {"sprint": self._sprint(v)},
        }

    def plan(
        self,
        record: IssueRecord | None,
        fields: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        rich_text: bool,
        extra: Mapping[str, Callable[[Any, bool], Values]] | None = None,
    ) -> Values:
        """The new attribute values; 400 with per-field errors if anything is refused.

        `extra` adds parsers for fields only settable here (create's project, issuetype...).
        """
        parsers = {**self._parsers, **(extra or {})}
        values: Values = {}
        errors: dict[str, str] = {}
        for field, value in fields.items():
            if field in update:
                errors[field] = f"Field '{field}' is set in both 'fields' and 'update'."
                continue
            parser = parsers.get(field)
            if parser is None:
                errors[field] = CANNOT_SET.format(field=field)
                continue
            try:
                values.update(parser(value, rich_text))
            except Refusal as refusal:
                errors[field] = str(refusal)
        for field, operations in update.items():
            try:
                values.update(self._operations(record, field, operations, parsers, rich_text))
            except Refusal as refusal:
                errors[field] = str(refusal)
        if errors:
            raise field_errors(errors)
        # Jira's legacy time tracking: before work is logged, remaining follows original.
        no_work_logged = record is None or not record.time_spent
        if "original_estimate" in values and "remaining_estimate" not in values and no_work_logged:
            values["remaining_estimate"] = values["original_estimate"]
        return values

    def _operations(
        self,
        record: IssueRecord | None,
        field: str,
        operations: Any,
        parsers: Mapping[str, Callable[[Any, bool], Values]],
        rich_text: bool,
    ) -> Values:
        parser = parsers.get(field)
        if parser is None:
            raise Refusal(CANNOT_SET.format(field=field))
        if not isinstance(operations, list):
            raise Refusal(f"Operations for field '{field}' must be a list.")
        values: Values = {}
        labels = list(record.labels) if record is not None else []
        for operation in operations:
            if not isinstance(operation, dict) or len(operation) != 1:
                raise Refusal(f"Invalid operation for field '{field}'.")
            ((verb, value),) = operation.items()
            if verb == "set":
                values.update(parser(value, rich_text))
                labels = list(values.get("labels", labels))
            elif field == "labels" and verb in ("add", "remove"):
                label = _labels([value])[0]
                if verb == "add" and label not in labels:
                    labels.append(label)
                if verb == "remove" and label in labels:
                    labels.remove(label)
                values["labels"] = tuple(labels)
            else:
                raise Refusal(f"Field '{field}' does not support operation '{verb}'.")
        return values

    def _assignee(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dict) or "accountId" not in value:
            # Cloud is GDPR-strict: `{"name": ...}` (the jira lib's string shortcut) is refused.
            raise Refusal("Specify the assignee by 'accountId'; 'name' is not supported on Cloud.")
        account_id = value["accountId"]
        if account_id is None or account_id == "-1":
            return None
        if not isinstance(account_id, str) or account_id not in self.catalog.users:
            raise Refusal(f"User with accountId '{account_id}' does not exist.")
        return account_id

    def _sprint(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refusal("Number value expected as the Sprint id.")
        if self.catalog.sprint(value) is None:
            raise Refusal(f"Sprint with id {value} does not exist.")
        return value

    def changes(self, record: IssueRecord, values: Values) -> tuple[Values, tuple[ChangeItem, ...]]:
        """The values that really differ, and the changelog items describing them."""
        changed = {k: v for k, v in values.items() if getattr(record, k) != v}
        items = tuple(self.describe(k, getattr(record, k), v) for k, v in changed.items())
        return changed, items

    def describe(self, attribute: str, old: Any, new: Any) -> ChangeItem:
        """The changelog item Jira writes when `attribute` goes from `old` to `new`."""
        if attribute in ("summary", "description"):
            return ChangeItem(attribute, "jira", attribute, None, old, None, new)
        if attribute == "due":
            return ChangeItem(
                "duedate", "jira", "duedate", _iso(old), _day(old), _iso(new), _day(new)
            )
        if attribute == "assignee":
            return ChangeItem(
                "assignee", "jira", "assignee", old, self._name(old), new, self._name(new)
            )
        if attribute == "labels":
            return ChangeItem("labels", "jira", "labels", None, " ".join(old), None, " ".join(new))
        if attribute in ("original_estimate", "remaining_estimate", "time_spent"):
            field = {
                "original_estimate": "timeoriginalestimate",
                "remaining_estimate": "timeestimate",
                "time_spent": "timespent",
            }[attribute]
            return ChangeItem(field, "jira", field, _str(old), _str(old), _str(new), _str(new))
        field_id, name = self._custom_names[attribute]
        if attribute in ("department", "milestone"):
            options = getattr(self.catalog, f"{attribute}s")
            return ChangeItem(
                name,
                "custom",
                field_id,
                _str(old),
                _option_value(options, old),
                _str(new),
                _option_value(options, new),
            )
        if attribute == "sprint":
            return ChangeItem(
                name,
                "custom",
                field_id,
                _str(old),
                self._sprint_name(old),
                _str(new),
                self._sprint_name(new),
            )
        return ChangeItem(
            name, "custom", field_id, None, _number_text(old), None, _number_text(new)
        )

    def _name(self, account_id: str | None) -> str | None:
        user = self.catalog.users.get(account_id) if account_id else None
        return user.display_name if user else None

    def _sprint_name(self, sprint_id: int | None) -> str | None:
        sprint = self.catalog.sprint(sprint_id) if sprint_id is not None else None
        return sprint.name if sprint else None


def _summary(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refusal("You must specify a summary of the issue.")
    if len(value) > _TEXT_LIMIT:
        raise Refusal("Summary must be less than 255 characters.")
    return value


def _description(value: Any, rich_text: bool) -> str | None:
    if value is None:
        return None
    if rich_text:
        try:
            return text_from_adf(value)
        except ValueError as exc:
            raise Refusal(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            ) from exc
    if not isinstance(value, str):
        raise Refusal("Operation value must be a string")
    return value


def _due(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    raise Refusal(f"Error parsing date string: {value}")


def _labels(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refusal("Operation value must be an array of strings")
    for label in value:
        if not label or any(c.isspace() for c in label):
            raise Refusal(f"The label '{label}' contains spaces which is invalid.")
        if len(label) > _TEXT_LIMIT:
            raise Refusal(f"The label '{label}' exceeds the 255 character limit.")
    return tuple(dict.fromkeys(value))


def _timetracking(value: Any) -> Values:
    if not isinstance(value, dict):
        raise Refusal("Operation value must be an object")
    out: Values = {}
    for name, attribute in (
        ("originalEstimate", "original_estimate"),
        ("remainingEstimate", "remaining_estimate"),
    ):
        if name not in value:
            continue
        raw = value[name]
        try:
            out[attribute] = None if raw in (None, "") else parse_duration(str(raw))
        except ValueError as exc:
            kind = "original" if name == "originalEstimate" else "remaining"
            raise Refusal(f"The {kind} estimate specified is not valid.") from exc
    return out


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal("Operation value must be a number")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refusal("Operation value must be a string")
    if len(value) > _TEXT_LIMIT:
        raise Refusal(
            "The entered text is too long. It exceeds the allowed limit of 255 characters."
        )
    return value


def _option(options: tuple[Option, ...], value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dict) and "value" in value:
        found = find_option(options, value=value["value"])
        if found is None:
            raise Refusal(f"Option value '{value['value']}' is not valid")
        return found.id
    if isinstance(value, dict) and "id" in value:
        raw = value["id"]
        found = find_option(options, option_id=int(raw)) if str(raw).isdigit() else None
        if found is None:
            raise Refusal(f"Option id '{raw}' is not valid")
        return found.id
    raise Refusal("Specify the option by 'value' or 'id'.")


def _option_value(options: tuple[Option, ...], option_id: int | None) -> str | None:
    found = find_option(options, option_id=option_id) if option_id is not None else None
    return found.value if found else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


def _day(day: Any) -> str | None:
    return None if day is None else f"{day.isoformat()} 00:00:00.0"


def _number_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
