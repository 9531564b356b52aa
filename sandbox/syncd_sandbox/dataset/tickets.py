"""The Jira side: tickets mirroring ShotGrid tasks, and engineering/design/QA/audio work.

Keys are numbered in creation order, as Jira numbers them. A ticket that tracks a
ShotGrid task starts from the task's values with a little drift (someone moved one side
and not the other), which is the day-to-day disagreement syncd exists to reconcile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd_sandbox.dataset.draw import Draw, Weighted, band
from syncd_sandbox.dataset.pipeline import DAY, PROJECT_DAYS, TaskDraft
from syncd_sandbox.dataset.schedule import ACTIVE_SPRINT, Calendar
from syncd_sandbox.dataset.vocabulary import (
    PIPELINE_LABEL,
    STEP_PLAN,
    SUMMARY_PARTS,
    SUMMARY_TEMPLATES,
    TICKET_DEPARTMENTS,
    TICKET_LABELS,
)
from syncd_sandbox.production import JiraIssue, Milestone, Person, SgTask

UNMAPPED_JIRA_STATUS = "QA Hold"
JIRA_STATUSES = ("To Do", "In Progress", "In Review", "Blocked", UNMAPPED_JIRA_STATUS, "Done")
FIRST_ISSUE_ID = 10001
# How a ShotGrid status reads on the Jira ticket that tracks the task.
SG_TO_JIRA = {
    "wtg": "To Do", "rdy": "To Do", "ip": "In Progress", "rev": "In Review", "apr": "Done",
    "fin": "Done", "hld": "Blocked", "omt": "Done", "cbb": "In Review",
}  # fmt: skip
STATUS_DRIFT, ASSIGNEE_DRIFT, DUE_DRIFT = 0.06, 0.03, 0.05
# Status shares by due date, as in the pipeline: (due before this many days, shares).
_STATUS_BY_DUE: tuple[tuple[int, Weighted[str]], ...] = (
    (-45, Weighted((("Done", 80), ("In Review", 4), ("In Progress", 5), ("Blocked", 3),
                    ("To Do", 7), ("QA Hold", 1)))),
    (0, Weighted((("Done", 45), ("In Review", 15), ("In Progress", 20), ("Blocked", 6),
                  ("To Do", 12), ("QA Hold", 2)))),
    (30, Weighted((("In Progress", 35), ("To Do", 30), ("In Review", 15), ("Blocked", 6),
                   ("Done", 12), ("QA Hold", 2)))),
    (10**6, Weighted((("To Do", 70), ("In Progress", 15), ("Blocked", 3), ("In Review", 2),
                      ("Done", 10)))),
)  # fmt: skip
_STATUS_UNSCHEDULED = Weighted(
    (("To Do", 55), ("In Progress", 20), ("In Review", 5), ("Blocked", 5), ("Done", 15))
)
_MILESTONE_SHARES = (8, 12, 25, 25, 18, 12)  # of work filed before M1, by milestone
_POINTS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
_POINTS_SHARE = {"Story": 0.85, "Task": 0.5, "Bug": 0.25}
_ACTIVE = frozenset(("In Progress", "In Review", "Blocked", UNMAPPED_JIRA_STATUS))
_SLOT = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class TicketSlot:
    """A key number that tracks a ShotGrid task, and which side records the link."""

    task_index: int
    side: str  # "both", "sg" (SgTask.jira_key only) or "jira" (JiraIssue.sg_task_id only)


def number_issues(
    draw: Draw, count: int, ticketed: Mapping[int, str], tasks: Sequence[TaskDraft]
) -> list[tuple[int, TicketSlot | None]]:
    """(created, slot) for `count` issues, oldest first, so position + 1 is the key number.

    `ticketed` maps task index -> link side. A ticket is filed within two days of its
    ShotGrid task (either may come first); other work is created evenly over the project.
    Created times are seconds before the epoch; a None slot is work with no ShotGrid task.
    """
    plan: list[tuple[int, TicketSlot | None]] = []
    for task_index, side in ticketed.items():
        created = tasks[task_index].created_s + int((draw.random() - 0.5) * 4 * DAY)
        if created < 3600:  # not in the future, nor in the epoch's last hour
            created = 3600 + int(draw.random() * 8 * 3600)
        plan.append((min(created, PROJECT_DAYS * DAY), TicketSlot(task_index, side)))
    for _ in range(count - len(ticketed)):
        plan.append((3600 + int(draw.random() * (PROJECT_DAYS - 20) * DAY), None))
    plan.sort(key=lambda entry: -entry[0])  # stable: equal times keep their draw order
    return plan


class TicketWriter:
    """Writes the project's issues, numbered 1..n in creation order."""

    def __init__(
        self,
        draw: Draw,
        calendar: Calendar,
        milestones: tuple[Milestone, ...],
        people: tuple[Person, ...],
        project_key: str,
    ) -> None:
        self._draw, self._calendar, self._project_key = draw, calendar, project_key
        self._milestone_by_key = {m.key: m for m in milestones}
        # Work is planned for a milestone still ahead when it is filed: one choice per
        # "first milestone still open", with the due offsets to find it.
        shares = list(zip(milestones, _MILESTONE_SHARES, strict=True))
        self._open_milestones = [
            (calendar.offset(milestone.due), Weighted(shares[i:]))
            for i, milestone in enumerate(milestones)
        ]
        self._departments = Weighted((name, spec[0]) for name, spec in TICKET_DEPARTMENTS.items())
        self._issue_types = {name: Weighted(spec[1]) for name, spec in TICKET_DEPARTMENTS.items()}
        self._crew: dict[str, list[str]] = {}
        for person in people:
            self._crew.setdefault(person.department, []).append(person.jira_account_id)
        self._everyone = [person.jira_account_id for person in people]
        self._account_by_sg_user = {p.sg_user_id: p.jira_account_id for p in people}
        self._step_department = {id_: dept for id_, _, dept, _ in STEP_PLAN}
        self._step_labels = {id_: (PIPELINE_LABEL, name.lower()) for id_, name, _, _ in STEP_PLAN}
        self._summaries: dict[str, str] = {}  # repeated summaries share one string
        # Named slots become positional ones once, with the pool each slot draws from.
        self._templates = {
            department: tuple(
                (_SLOT.sub("{}", t), tuple(SUMMARY_PARTS[slot] for slot in _SLOT.findall(t)))
                for t in templates
            )
            for department, templates in SUMMARY_TEMPLATES.items()
        }

    def write(
        self,
        plan: Sequence[tuple[int, TicketSlot | None]],
        tasks: Sequence[SgTask],
        entity_codes: Mapping[tuple[str, int], str],
    ) -> list[JiraIssue]:
        """One issue per `number_issues` entry: key number = position + 1."""
        issues: list[JiraIssue] = []
        for number, (created_s, slot) in enumerate(plan, start=1):
            if slot is None:
                issues.append(self._work_item(number, created_s))
            else:
                task = tasks[slot.task_index]
                code = entity_codes[(task.entity_type, task.entity_id)]
                issues.append(self._pipeline_ticket(number, created_s, task, code, slot.side))
        return issues

    def _pipeline_ticket(
        self, number: int, created_s: int, task: SgTask, code: str, side: str
    ) -> JiraIssue:
        """A ticket tracking `task`, from its values with occasional drift."""
        rnd, calendar = self._draw.random, self._calendar
        department = self._step_department[task.step_id]
        status = SG_TO_JIRA[task.status]
        if rnd() < STATUS_DRIFT:
            status = self._draw.pick(("To Do", "In Progress", "In Review", "Done"))
        assignee = self._account_by_sg_user[task.assignee_ids[0]] if task.assignee_ids else None
        if rnd() < ASSIGNEE_DRIFT:
            assignee = self._draw.pick(self._crew[department])
        due = task.due_date
        if due is not None and rnd() < DUE_DRIFT:
            moved = calendar.offset(due) + self._draw.between(-7, 7)
            if moved > 2 - created_s // DAY:  # moved by someone, but not to before filing
                due = calendar.workday(moved)
        estimate = task.est_in_mins * 60 if task.est_in_mins is not None else None
        milestone = self._milestone_by_key[task.milestone].name if task.milestone else None
        updated_s = int(created_s * rnd() * 0.97)
        return JiraIssue(
            id=FIRST_ISSUE_ID + number - 1,
            key=f"{self._project_key}-{number}",
            summary=f"[{code}] {task.content}",
            issue_type="Task",
            status=status,
            assignee_account_id=assignee,
            reporter_account_id=self._draw.pick(self._crew["Production"]),
            due_date=due,
            original_estimate_seconds=estimate,
            time_spent_seconds=self._time_spent(status, estimate),
            labels=self._step_labels[task.step_id],
            department=department,
            milestone=milestone,
            sprint=self._sprint(status, updated_s),
            story_points=self._draw.pick(_POINTS[:4]) if rnd() < 0.15 else None,
            sg_task_id=task.id if side in ("both", "jira") else None,
            created=calendar.at(created_s),
            updated=calendar.at(updated_s),
        )

    def _work_item(self, number: int, created_s: int) -> JiraIssue:
        """Engineering, design, QA, audio or production work with no ShotGrid task."""
        draw, calendar = self._draw, self._calendar
        rnd = draw.random
        department = self._departments.draw(draw)
        issue_type = self._issue_types[department].draw(draw)
        created_day = -(created_s // DAY)
        milestone = None if rnd() < 0.05 else self._milestone_after(created_day).draw(draw)
        due_offset: int | None = None
        if milestone is not None and rnd() < 0.75:
            due_offset = calendar.offset(milestone.due) - int(rnd() * 31)
            if due_offset < created_day + 3:  # due a few days after it was filed, at least
                due_offset = created_day + 3 + int(rnd() * 14)
        weights = _STATUS_UNSCHEDULED if due_offset is None else band(_STATUS_BY_DUE, due_offset)
        status = weights.draw(draw)
        crew = self._crew[department]
        unassigned = rnd() < (0.3 if status == "To Do" else 0.04)
        if issue_type == "Bug" and rnd() < 0.7:
            reporter = draw.pick(self._crew["QA"])
        else:
            reporter = draw.pick(self._crew["Production"] if rnd() < 0.5 else self._everyone)
        hours = 8 if issue_type == "Bug" else 40
        estimate = 3600 * (1 + int(rnd() * hours)) if rnd() < 0.7 else None
        updated_s = int(created_s * rnd() * 0.97)
        points = draw.pick(_POINTS) if rnd() < _POINTS_SHARE[issue_type] else None
        return JiraIssue(
            id=FIRST_ISSUE_ID + number - 1,
            key=f"{self._project_key}-{number}",
            summary=self._summary(department),
            issue_type=issue_type,
            status=status,
            assignee_account_id=None if unassigned else draw.pick(crew),
            reporter_account_id=reporter,
            due_date=None if due_offset is None else calendar.workday(due_offset),
            original_estimate_seconds=estimate,
            time_spent_seconds=self._time_spent(status, estimate),
            labels=draw.pick(TICKET_LABELS[department]),
            department=department,
            milestone=milestone.name if milestone else None,
            sprint=self._sprint(status, updated_s),
            story_points=points,
            sg_task_id=None,
            created=calendar.at(created_s),
            updated=calendar.at(updated_s),
        )

    def _milestone_after(self, day: int) -> Weighted[Milestone]:
        """The milestone choice for work filed on `day`: milestones due a week later or more."""
        for due, choice in self._open_milestones:
            if due > day + 7:
                return choice
        return self._open_milestones[-1][1]

    def _summary(self, department: str) -> str:
        pick = self._draw.pick
        template, pools = pick(self._templates[department])
        summary = template.format(*[pick(pool) for pool in pools])
        return self._summaries.setdefault(summary, summary)

    def _time_spent(self, status: str, estimate: int | None) -> int | None:
        """Logged seconds: about the estimate when done, part of it while active."""
        rnd = self._draw.random
        if status == "Done":
            low, high = 0.6, 1.6
        elif status in _ACTIVE:
            low, high = 0.1, 0.9
        else:
            return None
        if estimate is None:
            return 3600 * (1 + int(rnd() * 24)) if rnd() < 0.4 else None
        quarter_hours = int(estimate * (low + (high - low) * rnd()) / 900)
        return 900 * max(1, quarter_hours)

    def _sprint(self, status: str, updated_s: int) -> str | None:
        """Done work sits in the sprint it closed in, active work in the current one."""
        roll = self._draw.random()
        if status == "Done":
            return self._calendar.sprint(-(updated_s // DAY)) if roll < 0.85 else None
        if status in _ACTIVE:
            return self._calendar.sprint_named(ACTIVE_SPRINT) if roll < 0.85 else None
        if roll < 0.3:
            return self._calendar.sprint_named(ACTIVE_SPRINT + 1)
        return self._calendar.sprint_named(ACTIVE_SPRINT) if roll < 0.4 else None
