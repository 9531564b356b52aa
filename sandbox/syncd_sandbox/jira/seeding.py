"""Turn a `Production`'s Jira issues into compact store records."""

from __future__ import annotations

from collections.abc import Sequence

from syncd_sandbox.jira.catalog import Catalog
from syncd_sandbox.jira.formats import to_millis
from syncd_sandbox.jira.store import IssueRecord, IssueStore
from syncd_sandbox.production import JiraIssue


def seed_records(
    issues: Sequence[JiraIssue], catalog: Catalog, store: IssueStore
) -> tuple[list[IssueRecord], list[tuple[int, int]]]:
    """The live issues as records, and the (id, key number) of deleted ones, kept reserved."""
    statuses = {s.name: n for n, s in enumerate(catalog.workflow.statuses)}
    types = {t.name: n for n, t in enumerate(catalog.issue_types)}
    options = {o.value: o.id for o in catalog.departments}
    milestones = {o.value: o.id for o in catalog.milestones}
    sprints = {s.name: s.id for s in catalog.sprints}
    labels: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct label set
    records: list[IssueRecord] = []
    reserved: list[tuple[int, int]] = []
    for issue in issues:
        number = store.number_of(issue.key)
        if number is None:
            raise ValueError(f"issue key {issue.key!r} is not in project {catalog.project_key}")
        if issue.deleted:
            reserved.append((issue.id, number))
            continue
        original, spent = issue.original_estimate_seconds, issue.time_spent_seconds
        records.append(
            IssueRecord(
                id=issue.id,
                number=number,
                summary=issue.summary,
                issue_type=types[issue.issue_type],
                status=statuses[issue.status],
                assignee=issue.assignee_account_id,
                reporter=issue.reporter_account_id,
                due=issue.due_date,
                original_estimate=original,
                remaining_estimate=None if original is None else max(0, original - (spent or 0)),
                time_spent=spent,
                labels=labels.setdefault(issue.labels, issue.labels),
                department=options.get(issue.department) if issue.department else None,
                milestone=milestones.get(issue.milestone) if issue.milestone else None,
                sprint=sprints.get(issue.sprint) if issue.sprint else None,
                story_points=issue.story_points,
                sg_task_id=issue.sg_task_id,
                pipeline_status=None,
                description=None,
                created=to_millis(issue.created),
                updated=to_millis(issue.updated),
            )
        )
    return records, reserved
