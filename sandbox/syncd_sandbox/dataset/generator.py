"""`generate()`: one seed and a size in, one deterministic `Production` out.

`Production.notes` (all values strings) says where the planted mess is:

- Jira: `deleted_issue` (+ `deleted_issue_sg_task`, the task still naming it),
  `unmapped_jira_status` / `unmapped_jira_status_issue`, `unassigned_issue`, and one
  example per link side: `link_both_issue`, `link_sg_issue` (only `SgTask.jira_key`),
  `link_jira_issue` (only `JiraIssue.sg_task_id`).
- ShotGrid: `unmapped_sg_status` / `unmapped_sg_status_task`, `unassigned_sg_task`.
- People: `hidden_email_person` (a `Person.key` with `jira_email_visible=False`).
- Invoices (invoice numbers unless said): `duplicate_invoice`, `duplicate_invoice_rows` and
  `blank_invoice_rows` (sheet row numbers, header = row 1, comma-separated),
  `non_numeric_amount_invoice`, `unmapped_invoice_status` (the value) and
  `unmapped_invoice_status_invoice`, `unknown_budget_line` (the value) and
  `unknown_budget_line_invoice`, `amount_{usd,eur,gbp,jpy,cad}_symbol`, `amount_plain`,
  `amount_code`, `date_iso`, `date_slash`, `date_month` (a row typed in that form).
- Conventions: `epoch`, `reporting_currency`, `slash_dates` ("DD/MM/YYYY"),
  `sg_milestone` (ShotGrid stores the milestone key, Jira the name), `sg_entity_ids`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

from syncd_sandbox.dataset.budget import budget_lines, build_budget
from syncd_sandbox.dataset.draw import Draw
from syncd_sandbox.dataset.invoices import MIN_INVOICES, build_invoices
from syncd_sandbox.dataset.people import build_departments, build_people
from syncd_sandbox.dataset.pipeline import (
    SG_STATUS_CODES,
    UNMAPPED_SG_STATUS,
    TaskDraft,
    build_pipeline,
    build_steps,
)
from syncd_sandbox.dataset.schedule import EPOCH, Calendar, build_milestones
from syncd_sandbox.dataset.tickets import (
    JIRA_STATUSES,
    UNMAPPED_JIRA_STATUS,
    TicketSlot,
    TicketWriter,
    number_issues,
)
from syncd_sandbox.dataset.vendors import REPORTING_CURRENCY
from syncd_sandbox.production import JiraIssue, Person, Production, SgTask

T = TypeVar("T")

DEMO = 300  # issues in the demo production
BENCH = 100_000  # issues in the benchmark production
MIN_ISSUES = 50  # below this the planted mess would crowd out the ordinary data
PIPELINE_TICKET_SHARE = 0.6  # of Jira issues: tickets tracking a ShotGrid task
TICKETED_TASK_SHARE = 0.7  # of ShotGrid tasks: those with a Jira ticket
# Which side records a task <-> ticket link: both, ShotGrid's sg_jira_key only, or
# Jira's "ShotGrid Task" field only; real studios have all three.
LINK_SIDES = (("both", 0.4), ("sg", 0.3), ("jira", 0.3))
MAX_PEOPLE = 300

PROJECT_NAME = "Harbor Lights"
JIRA_PROJECT_KEY = "HRB"
SG_PROJECT_ID = 155
_SHEET_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass(frozen=True, slots=True)
class Sizes:
    """How many of each thing a production of a given size holds."""

    issues: int  # Jira issues, the deleted one included
    pipeline_tickets: int  # of those, tickets tracking a ShotGrid task
    sg_tasks: int
    people: int
    invoices: int  # invoice rows, the duplicate included, blank rows not
    blank_invoice_rows: int


def plan_sizes(issues: int, invoices: int | None = None) -> Sizes:
    """The counts for `issues` Jira issues; people grow with the square root of the work."""
    if issues < MIN_ISSUES:
        raise ValueError(f"issues must be at least {MIN_ISSUES}, got {issues}")
    invoice_rows = invoices if invoices is not None else min(max(issues // 20, 60), 5_000)
    if invoice_rows < MIN_INVOICES:
        raise ValueError(f"invoices must be at least {MIN_INVOICES}, got {invoice_rows}")
    pipeline_tickets = round(issues * PIPELINE_TICKET_SHARE)
    return Sizes(
        issues=issues,
        pipeline_tickets=pipeline_tickets,
        sg_tasks=round(pipeline_tickets / TICKETED_TASK_SHARE),
        people=min(max(round(1.45 * math.sqrt(issues)), 12), MAX_PEOPLE),
        invoices=invoice_rows,
        blank_invoice_rows=max(2, invoice_rows // 100),
    )


def generate(*, seed: int = 7, issues: int = DEMO, invoices: int | None = None) -> Production:
    """A game production with `issues` Jira issues, the same for the same arguments."""
    sizes = plan_sizes(issues, invoices)
    with _collector_paused():
        return _build(seed, sizes)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building.

    A 100k production allocates ~400k container objects and none of them form cycles, so
    collector passes cost ~10% of the build and free nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(seed: int, sizes: Sizes) -> Production:
    """Everything, drawn in a fixed order from one `Draw(seed)`."""
    draw, calendar = Draw(seed), Calendar()
    spreadsheet_id = "1" + draw.token(43, _SHEET_ID_ALPHABET)
    milestones = build_milestones()
    people = build_people(draw, sizes.people)
    pipeline = build_pipeline(draw, calendar, milestones, people, sizes.sg_tasks)
    notes = _plant_in_tasks(draw, pipeline.tasks)
    plan = number_issues(draw, sizes.issues, _ticketed_tasks(draw, sizes), pipeline.tasks)
    slots = {number: slot for number, (_, slot) in enumerate(plan, start=1) if slot}
    jira_keys = {
        slot.task_index: f"{JIRA_PROJECT_KEY}-{number}"
        for number, slot in slots.items()
        if slot.side != "jira"
    }
    tasks = [draft.build(jira_keys.get(index)) for index, draft in enumerate(pipeline.tasks)]
    writer = TicketWriter(draw, calendar, milestones, people, JIRA_PROJECT_KEY)
    jira_issues = writer.write(plan, tasks, pipeline.entity_codes)
    notes |= _plant_in_issues(draw, jira_issues, slots, tasks)
    lines = budget_lines(milestones)
    sheet = build_invoices(draw, calendar, lines, sizes.invoices, sizes.blank_invoice_rows)
    notes |= sheet.notes
    notes |= _describe(people)
    return Production(
        name=PROJECT_NAME,
        seed=seed,
        jira_project_key=JIRA_PROJECT_KEY,
        jira_project_name=PROJECT_NAME,
        sg_project_id=SG_PROJECT_ID,
        sg_project_name=PROJECT_NAME,
        spreadsheet_id=spreadsheet_id,
        spreadsheet_title=f"{PROJECT_NAME} — Budget & Invoices",
        milestones=milestones,
        departments=build_departments(people),
        steps=build_steps(),
        people=people,
        assets=tuple(pipeline.assets),
        shots=tuple(pipeline.shots),
        sg_tasks=tuple(tasks),
        jira_issues=tuple(jira_issues),
        invoices=sheet.tab,
        budget=build_budget(draw, calendar, lines, sheet.invoiced_usd, people),
        jira_statuses=JIRA_STATUSES,
        sg_status_codes=SG_STATUS_CODES,
        notes=notes,
    )


def _ticketed_tasks(draw: Draw, sizes: Sizes) -> dict[int, str]:
    """Which tasks get a Jira ticket (by task index), and which side records the link."""
    count = sizes.pipeline_tickets
    sides: list[str] = []
    for side, share in LINK_SIDES[:-1]:
        sides += [side] * round(count * share)
    sides += [LINK_SIDES[-1][0]] * (count - len(sides))
    draw.shuffle(sides)
    task_indexes = draw.sample(range(sizes.sg_tasks), count)
    return dict(zip(task_indexes, sides, strict=True))


def _plant_in_tasks(draw: Draw, tasks: list[TaskDraft]) -> dict[str, str]:
    """Make sure the unmapped status and an unassigned task exist; say where."""
    cbb = _find(tasks, lambda task: task.status == UNMAPPED_SG_STATUS)
    if cbb is None:  # put it on work in progress, so the entity's own status still fits
        active = [i for i, task in enumerate(tasks) if task.status in ("ip", "rev")] or [0]
        cbb = draw.pick(active)
        tasks[cbb] = tasks[cbb]._replace(status=UNMAPPED_SG_STATUS)
    unassigned = _find(tasks, lambda task: not task.assignee_ids)
    if unassigned is None:
        unassigned = draw.between(0, len(tasks) - 1)
        tasks[unassigned] = tasks[unassigned]._replace(assignee_ids=())
    return {
        "unmapped_sg_status": UNMAPPED_SG_STATUS,
        "unmapped_sg_status_task": str(tasks[cbb].id),
        "unassigned_sg_task": str(tasks[unassigned].id),
    }


def _plant_in_issues(
    draw: Draw, issues: list[JiraIssue], slots: dict[int, TicketSlot], tasks: list[SgTask]
) -> dict[str, str]:
    """Delete one issue a task still names, make sure the other mess exists; say where."""
    sg_side = [number for number, slot in slots.items() if slot.side == "sg"]
    deleted = draw.pick(sorted(sg_side))
    issues[deleted - 1] = replace(issues[deleted - 1], deleted=True)
    live = [i for i, issue in enumerate(issues) if not issue.deleted]
    qa_hold = _find(issues, lambda issue: issue.status == UNMAPPED_JIRA_STATUS, live)
    if qa_hold is None:
        work = [i for i in live if i + 1 not in slots] or live
        qa_hold = draw.pick(work)
        issues[qa_hold] = replace(issues[qa_hold], status=UNMAPPED_JIRA_STATUS)
    unassigned = _find(issues, lambda issue: issue.assignee_account_id is None, live)
    if unassigned is None:
        unassigned = draw.pick(live)
        issues[unassigned] = replace(issues[unassigned], assignee_account_id=None)
    notes = {
        "deleted_issue": issues[deleted - 1].key,
        "deleted_issue_sg_task": str(tasks[slots[deleted].task_index].id),
        "unmapped_jira_status": UNMAPPED_JIRA_STATUS,
        "unmapped_jira_status_issue": issues[qa_hold].key,
        "unassigned_issue": issues[unassigned].key,
    }
    for side in ("both", "sg", "jira"):
        number = min(n for n, slot in slots.items() if slot.side == side and n != deleted)
        notes[f"link_{side}_issue"] = issues[number - 1].key
    return notes


def _find(
    items: Sequence[T], test: Callable[[T], bool], indexes: Iterable[int] | None = None
) -> int | None:
    """The index of the first item passing `test` (among `indexes`, if given)."""
    return next((i for i in (indexes or range(len(items))) if test(items[i])), None)


def _describe(people: tuple[Person, ...]) -> dict[str, str]:
    """Conventions a connector or a test needs to read the production right."""
    hidden = next(person for person in people if not person.jira_email_visible)
    return {
        "epoch": EPOCH.isoformat(),
        "hidden_email_person": hidden.key,
        "sg_milestone": "milestone key (M1..M6); Jira's Milestone holds the milestone name",
        "sg_entity_ids": "numbered per entity type: (entity_type, entity_id) is the key",
        "slash_dates": "DD/MM/YYYY",
        "reporting_currency": REPORTING_CURRENCY,
    }
