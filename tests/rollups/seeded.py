"""The seeded production as syncd's records: a small translation written for the tests.

It follows the shipped mappings' value tables (ShotGrid and Jira statuses, milestone keys,
money and dates as people typed them) and the production's own facts (a step's
department, people's emails), without going through syncd's engine. A ShotGrid task and
the Jira ticket tracking it (linked from either side) are one task: ShotGrid's values,
plus the ticket's key and logged time; when their statuses disagree a conflict is open
until a person decides, and the figures count the status the tools last agreed on: none,
as they disagreed from the start (docs/producers/conflicts-and-dry-run.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from syncd.mapping.transforms import parse_date, parse_money
from syncd.model import Asset, BudgetLine, Invoice, Task
from syncd.rollups.model import (
    ConnectorRun,
    Entry,
    FieldFlag,
    OpenConflict,
    RollupInput,
    SourceError,
    SourceRef,
    TaskEntry,
)
from syncd_sandbox.production import JiraIssue, Production, SgTask

SG_STATUS = {
    "wtg": "todo", "rdy": "todo", "ip": "in_progress", "rev": "review", "apr": "done",
    "fin": "done", "hld": "blocked", "omt": "omitted",
}  # fmt: skip
SG_PIPELINE = {
    "wtg": "waiting", "rdy": "ready", "ip": "in_progress", "rev": "review", "apr": "approved",
    "fin": "final", "hld": "on_hold", "omt": "omitted",
}  # fmt: skip
JIRA_STATUS = {
    "To Do": "todo", "In Progress": "in_progress", "In Review": "review", "Blocked": "blocked",
    "Done": "done",
}  # fmt: skip
INVOICE_STATUS = {s.lower(): s.lower() for s in ("Draft", "Submitted", "Approved", "Paid",
                                                 "Disputed", "Void")}  # fmt: skip
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y"]


def _flag(connector: str, field: str, value: str) -> FieldFlag:
    return FieldFlag(connector, field, value, f"{value!r} is not in the value table", True)


class Translation:
    """Production -> RollupInput, keeping the facts the expected figures need."""

    def __init__(self, production: Production, now: datetime) -> None:
        self.production, self.now = production, now
        self.milestone_names = {m.key: m.name for m in production.milestones}
        self.sg_email = {p.sg_user_id: p.email for p in production.people}
        # Jira hides some emails; the admin lists them in the mapping's user table.
        self.jira_email = {p.jira_account_id: p.email for p in production.people}
        self.steps = {s.id: s for s in production.steps}
        self.codes = {("Asset", a.id): a.code for a in production.assets}
        self.codes |= {("Shot", s.id): s.code for s in production.shots}
        self.conflicts: list[OpenConflict] = []
        self.errors: list[SourceError] = []

    # -- tasks ------------------------------------------------------------------------------

    def tasks(self) -> list[TaskEntry]:
        live = [issue for issue in self.production.jira_issues if not issue.deleted]
        by_key = {issue.key: issue for issue in live}
        by_task = {issue.sg_task_id: issue for issue in live if issue.sg_task_id is not None}
        entries, linked = [], set()
        for task in self.production.sg_tasks:
            issue = by_task.get(task.id) or by_key.get(task.jira_key or "")
            if issue is not None:
                linked.add(issue.key)
            entries.append(self._sg_task(task, issue))
        entries += [self._issue(issue) for issue in live if issue.key not in linked]
        return entries

    def _sg_task(self, task: SgTask, issue: JiraIssue | None) -> TaskEntry:
        status = SG_STATUS.get(task.status)
        flags = []
        if status is None:
            flags += [_flag("shotgrid", "pipeline_status", task.status),
                      _flag("shotgrid", "status", task.status)]  # fmt: skip
        step = self.steps[task.step_id]
        milestone = self.milestone_names.get(task.milestone or "")
        if issue is not None and issue.milestone:
            milestone = issue.milestone  # milestones are planned in Jira
        record = Task(
            title=task.content,
            status=status,
            pipeline_status=SG_PIPELINE.get(task.status),
            assignee=self.sg_email[task.assignee_ids[0]] if task.assignee_ids else None,
            department=step.department,
            milestone=milestone,
            due_date=task.due_date,
            estimate_hours=None if task.est_in_mins is None else Decimal(task.est_in_mins) / 60,
            spent_hours=_hours(issue.time_spent_seconds) if issue else None,
            linked_asset=self.codes[(task.entity_type, task.entity_id)],
            jira_key=issue.key if issue else task.jira_key,
        )
        sources = [SourceRef("shotgrid", "Task", str(task.id))]
        entry_id = f"sg-{task.id}"
        if issue is not None:
            sources.insert(0, SourceRef("jira", "issue", issue.key))
            theirs = JIRA_STATUS.get(issue.status)
            if theirs is not None and status is not None and theirs != status:
                self.conflicts.append(
                    OpenConflict(len(self.conflicts) + 1, entry_id, "task", "status", None,
                                 {"shotgrid": status, "jira": theirs}, task.updated_at)
                )  # fmt: skip
                record = record.model_copy(update={"status": None})  # never agreed
        changed = {"status": task.updated_at}
        return TaskEntry(entry_id, record, tuple(sources), tuple(flags), changed, step.name)

    def _issue(self, issue: JiraIssue) -> TaskEntry:
        status = JIRA_STATUS.get(issue.status)
        flags = () if status is not None else (_flag("jira", "status", issue.status),)
        assignee = issue.assignee_account_id
        record = Task(
            title=issue.summary,
            status=status,
            assignee=self.jira_email[assignee] if assignee else None,
            department=issue.department,
            milestone=issue.milestone,
            due_date=issue.due_date,
            estimate_hours=_hours(issue.original_estimate_seconds),
            spent_hours=_hours(issue.time_spent_seconds),
            labels=list(issue.labels),
            jira_key=issue.key,
        )
        sources = (SourceRef("jira", "issue", issue.key),)
        return TaskEntry(
            f"jira-{issue.key}", record, sources, flags, {"status": issue.updated}, None
        )

    # -- sheets ------------------------------------------------------------------------------

    def invoices(self) -> list[Entry[Invoice]]:
        """One invoice per Invoice #; blank rows skipped, a second row with a number reported."""
        header, *rows = self.production.invoices.rows
        entries: list[Entry[Invoice]] = []
        seen: dict[str, int] = {}
        for number, cells in enumerate(rows, start=2):
            row = dict(zip(header, cells, strict=True))
            key = row["Invoice #"].strip()
            if not key:
                continue
            if key in seen:
                self.errors.append(
                    SourceError("sheets", "Invoices", key, f"Invoices row {number}", None,
                                f"duplicate Invoice # (also on row {seen[key]})", self.now)
                )  # fmt: skip
                continue
            seen[key] = number
            entries.append(self._invoice(key, row))
        return entries

    def _invoice(self, key: str, row: dict[str, str]) -> Entry[Invoice]:
        flags = []
        try:
            amount = parse_money(row["Amount"])
        except ValueError:
            amount = None
            flags.append(FieldFlag("sheets", "amount", row["Amount"],
                                   f"{row['Amount']!r} is not an amount", False))  # fmt: skip
        status = INVOICE_STATUS.get(row["Status"].strip().lower())
        if status is None:
            flags.append(_flag("sheets", "status", row["Status"]))
        record = Invoice(
            number=key,
            vendor=row["Vendor"] or None,
            amount=amount,
            currency=row["Currency"] or None,
            status=status,
            issued=parse_date(row["Issued"], DATE_FORMATS),
            due=parse_date(row["Due"], DATE_FORMATS),
            milestone=row["Milestone"] or None,
            budget_line=row["Budget Line"] or None,
            po=row["PO"] or None,
        )
        sources = (SourceRef("sheets", "Invoices", key),)
        return Entry(f"inv-{key}", record, sources, tuple(sorted(flags, key=lambda f: f.field)))

    def budget_lines(self) -> list[Entry[BudgetLine]]:
        header, *rows = self.production.budget.rows
        entries = []
        for cells in rows:
            row = dict(zip(header, cells, strict=True))
            record = BudgetLine(
                name=row["Budget Line"],
                department=row["Department"] or None,
                milestone=row["Milestone"] or None,
                amount=parse_money(row["Budget"]),
                currency=row["Currency"],
                owner=row["Owner"] or None,
            )
            source = (SourceRef("sheets", "Budget", row["Budget Line"]),)
            entries.append(Entry(f"line-{row['Budget Line']}", record, source))
        return entries

    # -- shotgrid entities ---------------------------------------------------------------------

    def assets(self) -> list[Entry[Asset]]:
        entries = [
            Entry(f"asset-{a.id}", Asset(name=a.code, asset_type=a.asset_type,
                                         pipeline_status=SG_PIPELINE[a.status],
                                         description=a.description),
                  (SourceRef("shotgrid", "Asset", str(a.id)),))
            for a in self.production.assets
        ]  # fmt: skip
        entries += [
            Entry(f"shot-{s.id}", Asset(name=s.code, asset_type="shot",
                                        pipeline_status=SG_PIPELINE[s.status]),
                  (SourceRef("shotgrid", "Shot", str(s.id)),))
            for s in self.production.shots
        ]  # fmt: skip
        return entries

    # -- sync state ----------------------------------------------------------------------------

    def runs(self) -> list[ConnectorRun]:
        minute = timedelta(minutes=1)
        now = self.now
        return [
            ConnectorRun("jira", "ok", now - 6 * minute, now - 5 * minute, now - 5 * minute),
            ConnectorRun("shotgrid", "ok", now - 11 * minute, now - 10 * minute,
                         now - 10 * minute),
            ConnectorRun("sheets", "failed", now - 3 * minute, now - 2 * minute,
                         now - 120 * minute, "429 RESOURCE_EXHAUSTED"),
        ]  # fmt: skip

    def rollup_input(self) -> RollupInput:
        tasks = self.tasks()
        invoices = self.invoices()
        return RollupInput(
            now=self.now,
            tasks=tuple(tasks),
            invoices=tuple(invoices),
            assets=tuple(self.assets()),
            budget_lines=tuple(self.budget_lines()),
            conflicts=tuple(self.conflicts),
            source_errors=tuple(self.errors),
            runs=tuple(self.runs()),
        )


def _hours(seconds: int | None) -> Decimal | None:
    return None if seconds is None else Decimal(seconds) / 3600
