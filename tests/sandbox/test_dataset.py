"""The seeded production: determinism, sizes, referential integrity, and the planted mess."""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from syncd_sandbox.dataset import (
    BENCH,
    DEMO,
    EPOCH,
    EPOCH_AT,
    MIN_ISSUES,
    generate,
    plan_sizes,
)
from syncd_sandbox.dataset.names import ascii_fold
from syncd_sandbox.dataset.vendors import format_amount, format_date
from syncd_sandbox.production import Production

INVOICE_HEADER = (
    "Invoice #", "Vendor", "Amount", "Currency", "Status", "Issued", "Due",
    "Milestone", "Budget Line", "PO", "Notes",
)  # fmt: skip
BUDGET_HEADER = ("Budget Line", "Department", "Milestone", "Budget", "Currency", "Owner")
INVOICE_STATUSES = {"Draft", "Submitted", "Approved", "Paid", "Disputed", "Void"}
CURRENCIES = {"USD", "EUR", "GBP", "CAD", "JPY"}

# Every way an amount is written in the sheet, by name.
AMOUNT_FORMS = {
    "usd_symbol": re.compile(r"^\$\d{1,3}(,\d{3})*\.\d{2}$"),  # $1,200.50
    "eur_symbol": re.compile(r"^\d{1,3}(\.\d{3})*,\d{2} €$"),  # 1.200,50 €
    "gbp_symbol": re.compile(r"^£\d{1,3}(,\d{3})*(\.\d{2})?$"),  # £950
    "jpy_symbol": re.compile(r"^¥\d{1,3}(,\d{3})*$"),  # ¥150,000
    "cad_symbol": re.compile(r"^CA\$\d{1,3}(,\d{3})*\.\d{2}$"),  # CA$2,300.00
    "plain": re.compile(r"^\d+(\.\d{1,2})?$"),  # 1200.5
    "code": re.compile(r"^(USD|EUR|GBP|CAD|JPY) \d{1,3}(,\d{3})*(\.\d{2})?$"),  # EUR 3,400.00
}
DATE_FORMS = {
    "iso": ("%Y-%m-%d", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    "slash": ("%d/%m/%Y", re.compile(r"^\d{2}/\d{2}/\d{4}$")),
    "month": ("%b %d, %Y", re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}$")),
}
JIRA_ACCOUNT_ID = re.compile(
    r"^([0-9a-f]{24}|712020:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$"
)


@pytest.fixture(scope="module")
def demo() -> Production:
    return generate()


@pytest.fixture(scope="module")
def mid() -> Production:
    return generate(seed=11, issues=10_000)


def digest(production: Production) -> str:
    return hashlib.sha256(repr(production).encode()).hexdigest()


def invoice_rows(production: Production) -> list[tuple[str, ...]]:
    """Data rows of the invoice tab, blank ones left out."""
    return [row for row in production.invoices.rows[1:] if any(row)]


def invoice(production: Production, number: str) -> tuple[str, ...]:
    return next(row for row in invoice_rows(production) if row[0] == number)


def amount_form(text: str) -> str | None:
    return next((name for name, form in AMOUNT_FORMS.items() if form.match(text)), None)


def date_form(text: str) -> str | None:
    return next((name for name, (_, form) in DATE_FORMS.items() if form.match(text)), None)


def parse_date(text: str) -> date:
    name = date_form(text)
    assert name is not None, text
    return datetime.strptime(text, DATE_FORMS[name][0]).date()


def assert_integrity(production: Production) -> None:
    """Every reference in the production names something that exists, both links agree."""
    tasks = {task.id: task for task in production.sg_tasks}
    issues = {issue.key: issue for issue in production.jira_issues}
    assert len(tasks) == len(production.sg_tasks)
    assert len(issues) == len(production.jira_issues)
    entities = {("Asset", a.id) for a in production.assets} | {
        ("Shot", s.id) for s in production.shots
    }
    assert len(entities) == len(production.assets) + len(production.shots)
    steps = {step.id for step in production.steps}
    sg_users = {person.sg_user_id for person in production.people}
    accounts = {person.jira_account_id for person in production.people}
    departments = {department.name for department in production.departments}
    milestone_keys = {milestone.key for milestone in production.milestones}
    milestone_names = {milestone.name for milestone in production.milestones}
    statuses, codes = set(production.jira_statuses), set(production.sg_status_codes)
    for task in production.sg_tasks:
        assert task.step_id in steps
        assert (task.entity_type, task.entity_id) in entities
        assert set(task.assignee_ids) <= sg_users
        assert task.status in codes
        assert task.milestone is None or task.milestone in milestone_keys
        if task.jira_key is not None:
            assert task.jira_key in issues, task
            assert issues[task.jira_key].sg_task_id in (None, task.id)
    for issue in production.jira_issues:
        assert issue.status in statuses
        assert issue.assignee_account_id is None or issue.assignee_account_id in accounts
        assert issue.reporter_account_id in accounts
        assert issue.department is None or issue.department in departments
        assert issue.milestone is None or issue.milestone in milestone_names
        if issue.sg_task_id is not None:
            assert issue.sg_task_id in tasks, issue
            assert tasks[issue.sg_task_id].jira_key in (None, issue.key)
    for person in production.people:
        assert person.department in departments
    for step in production.steps:
        assert step.department in departments


def assert_plants(production: Production) -> None:
    """Every piece of mess `notes` names is where it says."""
    notes = production.notes
    tasks = {task.id: task for task in production.sg_tasks}
    issues = {issue.key: issue for issue in production.jira_issues}

    deleted = [issue for issue in production.jira_issues if issue.deleted]
    assert [issue.key for issue in deleted] == [notes["deleted_issue"]]
    assert tasks[int(notes["deleted_issue_sg_task"])].jira_key == notes["deleted_issue"]

    assert notes["unmapped_jira_status"] == "QA Hold" == production.jira_statuses[-2]
    assert issues[notes["unmapped_jira_status_issue"]].status == "QA Hold"
    assert not issues[notes["unmapped_jira_status_issue"]].deleted
    assert notes["unmapped_sg_status"] == "cbb" == production.sg_status_codes[-1]
    assert tasks[int(notes["unmapped_sg_status_task"])].status == "cbb"
    assert issues[notes["unassigned_issue"]].assignee_account_id is None
    assert tasks[int(notes["unassigned_sg_task"])].assignee_ids == ()
    hidden = next(p for p in production.people if p.key == notes["hidden_email_person"])
    assert hidden.jira_email_visible is False

    rows = production.invoices.rows
    dup = notes["duplicate_invoice"]
    dup_rows = [int(n) for n in notes["duplicate_invoice_rows"].split(",")]
    assert [i + 1 for i, row in enumerate(rows) if row[:1] == (dup,)] == dup_rows
    assert len(dup_rows) == 2 and rows[dup_rows[0] - 1] == rows[dup_rows[1] - 1]
    numbers = Counter(row[0] for row in invoice_rows(production))
    assert [n for n, times in numbers.items() if times > 1] == [dup]
    blank_rows = [int(n) for n in notes["blank_invoice_rows"].split(",")]
    assert [i + 1 for i, row in enumerate(rows) if not any(row)] == blank_rows
    assert all(1 < n < len(rows) for n in blank_rows)  # between data rows, not trailing

    assert invoice(production, notes["non_numeric_amount_invoice"])[2] == "TBD"
    assert [row[0] for row in invoice_rows(production) if row[2] == "TBD"] == [
        notes["non_numeric_amount_invoice"]
    ]
    assert notes["unmapped_invoice_status"] == "Partially Paid"
    assert invoice(production, notes["unmapped_invoice_status_invoice"])[4] == "Partially Paid"
    lines = {row[0] for row in production.budget.rows[1:]}
    unknown = notes["unknown_budget_line"]
    assert unknown not in lines
    assert invoice(production, notes["unknown_budget_line_invoice"])[8] == unknown
    assert {row[8] for row in invoice_rows(production)} - lines == {unknown}
    for form in AMOUNT_FORMS:
        row = invoice(production, notes[f"amount_{form}"])
        assert AMOUNT_FORMS[form].match(row[2]), (form, row)
    for name, (_, pattern) in DATE_FORMS.items():
        row = invoice(production, notes[f"date_{name}"])
        assert pattern.match(row[5]) and pattern.match(row[6]), (name, row)


# Determinism


def test_same_seed_and_size_give_the_same_production(demo):
    again = generate(seed=7, issues=DEMO)
    assert again == demo
    assert digest(again) == digest(demo)


def test_same_seed_at_10k_gives_the_same_production(mid):
    assert digest(generate(seed=11, issues=10_000)) == digest(mid)


def test_same_seed_gives_the_same_production_in_another_process(demo):
    # A different string-hash seed would expose any set- or hash-ordered iteration.
    script = (
        "import hashlib; from syncd_sandbox.dataset import generate; "
        "print(hashlib.sha256(repr(generate()).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == digest(demo)


def test_different_seeds_give_different_productions(demo):
    other = generate(seed=8)
    assert digest(other) != digest(demo)
    assert [p.display_name for p in other.people] != [p.display_name for p in demo.people]
    assert [i.status for i in other.jira_issues] != [i.status for i in demo.jira_issues]
    assert other.spreadsheet_id != demo.spreadsheet_id
    assert other.invoices.rows != demo.invoices.rows


def test_output_does_not_depend_on_the_global_random_state(demo):
    random.seed(12345)
    assert digest(generate()) == digest(demo)


# Sizes


@pytest.mark.parametrize("issues", [MIN_ISSUES, DEMO, 2_000])
def test_counts_follow_the_size(issues):
    production = generate(issues=issues)
    sizes = plan_sizes(issues)
    assert len(production.jira_issues) == issues
    assert len(production.sg_tasks) == sizes.sg_tasks
    assert len(production.people) == sizes.people
    assert len(invoice_rows(production)) == sizes.invoices
    assert len(production.invoices.rows) == 1 + sizes.invoices + sizes.blank_invoice_rows
    linked = {i.sg_task_id for i in production.jira_issues if i.sg_task_id is not None}
    linked |= {t.id for t in production.sg_tasks if t.jira_key is not None}
    assert len(linked) == sizes.pipeline_tickets
    assert 0.65 <= len(linked) / len(production.sg_tasks) <= 0.75  # ~70% have a ticket
    assert production.assets and production.shots
    assert_integrity(production)
    assert_plants(production)


@pytest.mark.parametrize("seed", range(12))
def test_every_seed_plants_everything_even_at_the_smallest_size(seed):
    for issues, invoices in ((MIN_ISSUES, 20), (400, None)):
        production = generate(seed=seed, issues=issues, invoices=invoices)
        assert_integrity(production)
        assert_plants(production)


def test_size_presets():
    demo, bench = plan_sizes(DEMO), plan_sizes(BENCH)
    assert (demo.issues, bench.issues) == (300, 100_000)
    assert 20 <= demo.people <= 30 and demo.invoices == 60
    assert bench.people == 300 and bench.invoices == 5_000
    assert plan_sizes(10_000).people > demo.people  # grows, but sublinearly
    assert plan_sizes(10_000).people < 10_000 / 30


def test_invoice_count_can_be_chosen():
    production = generate(issues=DEMO, invoices=137)
    assert len(invoice_rows(production)) == 137
    assert_plants(production)


@pytest.mark.parametrize(
    ("issues", "invoices"), [(MIN_ISSUES - 1, None), (0, None), (DEMO, 19), (DEMO, 0)]
)
def test_too_small_sizes_are_refused(issues, invoices):
    with pytest.raises(ValueError, match="at least"):
        generate(issues=issues, invoices=invoices)


# Integrity and planted mess


def test_demo_is_consistent_and_has_its_mess(demo):
    assert_integrity(demo)
    assert_plants(demo)


def test_10k_is_consistent_and_has_its_mess(mid):
    assert_integrity(mid)
    assert_plants(mid)


def test_links_come_from_both_sides_and_agree(demo):
    tasks = {task.id: task for task in demo.sg_tasks}
    issues = {issue.key: issue for issue in demo.jira_issues}
    both = [i for i in demo.jira_issues if i.sg_task_id and tasks[i.sg_task_id].jira_key]
    jira_only = [i for i in demo.jira_issues if i.sg_task_id and not tasks[i.sg_task_id].jira_key]
    sg_only = [t for t in demo.sg_tasks if t.jira_key and issues[t.jira_key].sg_task_id is None]
    assert both and jira_only and sg_only
    assert all(tasks[i.sg_task_id].jira_key == i.key for i in both)
    notes = demo.notes
    assert tasks[issues[notes["link_both_issue"]].sg_task_id].jira_key == notes["link_both_issue"]
    assert issues[notes["link_jira_issue"]].sg_task_id is not None
    assert tasks[issues[notes["link_jira_issue"]].sg_task_id].jira_key is None
    assert issues[notes["link_sg_issue"]].sg_task_id is None
    assert any(t.jira_key == notes["link_sg_issue"] for t in demo.sg_tasks)


def test_pipeline_tickets_mirror_their_task(mid):
    tasks = {task.id: task for task in mid.sg_tasks}
    codes = {("Asset", a.id): a.code for a in mid.assets} | {
        ("Shot", s.id): s.code for s in mid.shots
    }
    steps = {step.id: step for step in mid.steps}
    milestones = {m.key: m.name for m in mid.milestones}
    linked = [(i, tasks[i.sg_task_id]) for i in mid.jira_issues if i.sg_task_id]
    for issue, task in linked:
        assert issue.summary == f"[{codes[(task.entity_type, task.entity_id)]}] {task.content}"
        assert issue.department == steps[task.step_id].department
        assert issue.milestone == (milestones[task.milestone] if task.milestone else None)
    same_due = sum(issue.due_date == task.due_date for issue, task in linked)
    assert 0.9 < same_due / len(linked) < 1  # mostly agree, some drift to reconcile


def test_unmapped_statuses_are_in_the_vocabularies_and_used(mid):
    assert mid.jira_statuses == ("To Do", "In Progress", "In Review", "Blocked", "QA Hold", "Done")
    assert mid.sg_status_codes == ("wtg", "rdy", "ip", "rev", "apr", "fin", "hld", "omt", "cbb")
    assert set(Counter(i.status for i in mid.jira_issues)) == set(mid.jira_statuses)
    assert set(Counter(t.status for t in mid.sg_tasks)) == set(mid.sg_status_codes)
    statuses = {row[4] for row in invoice_rows(mid)}
    assert statuses == INVOICE_STATUSES | {"Partially Paid"}


def test_task_statuses_fit_the_milestone_dates(mid):
    def share(tasks, codes):
        return sum(t.status in codes for t in tasks) / len(tasks)

    dated = [t for t in mid.sg_tasks if t.due_date is not None]
    long_past = [t for t in dated if (t.due_date - EPOCH).days < -45]
    far_ahead = [t for t in dated if (t.due_date - EPOCH).days > 30]
    assert share(long_past, {"fin", "apr", "omt"}) > 0.8
    assert share(far_ahead, {"wtg", "rdy"}) > 0.7
    due_dates = [m.due for m in mid.milestones]
    assert min(due_dates) < EPOCH < max(due_dates)  # past and future milestones
    assert [m.name for m in mid.milestones] == [
        "First Playable", "Vertical Slice", "Alpha", "Content Complete", "Beta", "Gold",
    ]  # fmt: skip


def test_unassigned_work_exists_on_both_sides(mid):
    assert sum(i.assignee_account_id is None for i in mid.jira_issues) > 100
    assert sum(not t.assignee_ids for t in mid.sg_tasks) > 100


# Shapes of the values


def test_people_have_non_ascii_names_and_unique_identities(mid):
    people = mid.people
    names = [p.display_name for p in people]
    assert {"Zoë Lefèvre", "Łukasz Wójcik", "Søren Ødegaard", "María José Núñez", "山田 太郎",
            "Ана Петрова"} <= set(names)  # fmt: skip
    scripts = {unicodedata.name(ch).split()[0] for name in names for ch in name if ch.isalpha()}
    assert {"LATIN", "CJK", "CYRILLIC", "GREEK", "HANGUL", "ARABIC"} <= scripts
    for attribute in ("key", "email", "jira_account_id", "sg_user_id", "display_name"):
        values = [getattr(p, attribute) for p in people]
        assert len(set(values)) == len(values), attribute
    assert all(p.email.isascii() and re.match(r"^[a-z0-9.]+@[a-z.]+$", p.email) for p in people)
    assert all(JIRA_ACCOUNT_ID.match(p.jira_account_id) for p in people)
    assert any(":" in p.jira_account_id for p in people)
    assert any(":" not in p.jira_account_id for p in people)
    assert 2 <= sum(not p.jira_email_visible for p in people) < len(people) / 4


def test_departments_and_steps(demo):
    departments = {d.name: d.capacity_hours_per_week for d in demo.departments}
    assert set(departments) == {
        "Art", "Animation", "Design", "Engineering", "Audio", "QA", "VFX", "Production",
    }  # fmt: skip
    headcount = Counter(p.department for p in demo.people)
    assert all(departments[name] == headcount[name] * 32 > 0 for name in departments)
    assert [s.name for s in demo.steps] == [
        "Concept", "Model", "Rig", "Texture", "Surfacing", "Animation", "Layout", "Lighting",
        "FX", "Comp",
    ]  # fmt: skip


def test_asset_and_shot_codes(mid):
    prefixes = {"Character": "chr", "Prop": "prp", "Environment": "env", "Vehicle": "veh",
                "FX": "fx"}  # fmt: skip
    for asset in mid.assets:
        assert re.match(rf"^{prefixes[asset.asset_type]}_[a-z_]+?_[a-z0-9]+(_\d\d)?$", asset.code)
    for shot in mid.shots:
        assert re.match(r"^SQ\d{3,}_SH\d{4}$", shot.code) and shot.code.startswith(shot.sequence)
        assert shot.cut_in < shot.cut_out
    codes = [a.code for a in mid.assets] + [s.code for s in mid.shots]
    assert len(set(codes)) == len(codes)
    assert set(Counter(a.asset_type for a in mid.assets)) == set(prefixes)


def test_shot_tasks_use_shot_steps_and_asset_tasks_asset_steps(mid):
    steps = {step.id: step.name for step in mid.steps}
    shot_steps = {steps[t.step_id] for t in mid.sg_tasks if t.entity_type == "Shot"}
    asset_steps = {steps[t.step_id] for t in mid.sg_tasks if t.entity_type == "Asset"}
    assert shot_steps == {"Layout", "Animation", "Lighting", "FX", "Comp"}
    assert {"Concept", "Model", "Rig", "Texture", "Surfacing"} <= asset_steps
    assert "Layout" not in asset_steps and "Comp" not in asset_steps


def test_timestamps_are_utc_ordered_and_before_the_epoch(mid):
    records = [*mid.jira_issues, *mid.sg_tasks, *mid.assets, *mid.shots]
    for record in records:
        created = getattr(record, "created", None) or record.created_at
        updated = getattr(record, "updated", None) or record.updated_at
        assert created.tzinfo is UTC and updated.tzinfo is UTC
        assert created < updated <= EPOCH_AT
    for issue in mid.jira_issues:
        assert issue.due_date is None or issue.created.date() <= issue.due_date, issue
    for task in mid.sg_tasks:
        assert task.start_date is None or task.created_at.date() <= task.start_date, task
    created = [issue.created for issue in mid.jira_issues]
    assert created == sorted(created)  # keys are numbered in creation order
    assert created[0] < EPOCH_AT.replace(year=2026, month=3)  # spread over many weeks


def test_jira_fields(mid):
    issues = mid.jira_issues
    assert [i.key for i in issues] == [f"HRB-{n}" for n in range(1, len(issues) + 1)]
    assert len({i.id for i in issues}) == len(issues)
    assert {i.issue_type for i in issues} == {"Task", "Bug", "Story"}
    sprints = {i.sprint for i in issues if i.sprint}
    assert "Sprint 24" in sprints and all(re.match(r"^Sprint \d+$", s) for s in sprints)
    assert {i.story_points for i in issues} <= {None, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0}
    for issue in issues:
        assert issue.original_estimate_seconds is None or issue.original_estimate_seconds > 0
        assert issue.time_spent_seconds is None or issue.time_spent_seconds > 0
        if issue.status == "To Do":
            assert issue.time_spent_seconds is None
    assert any(i.labels for i in issues) and any(not i.labels for i in issues)
    assert any(i.due_date is None for i in issues) and any(i.due_date for i in issues)


def test_sg_task_fields(mid):
    tasks = mid.sg_tasks
    assert any(t.est_in_mins is None for t in tasks)
    assert all(t.est_in_mins is None or t.est_in_mins % 240 == 0 for t in tasks)
    for task in tasks:
        if task.start_date is not None:
            assert task.due_date is not None and task.start_date <= task.due_date
            assert task.due_date.weekday() < 5  # due on a working day
    assert any(len(t.assignee_ids) == 2 for t in tasks)


# The sheets


def test_invoice_sheet_shape_and_mess(mid):
    rows = mid.invoices.rows
    assert mid.invoices.title == "Invoices" and rows[0] == INVOICE_HEADER
    assert all(len(row) == len(INVOICE_HEADER) for row in rows)
    data = invoice_rows(mid)
    assert {row[3] for row in data} == CURRENCIES
    vendors = {row[1] for row in data}
    assert {"Studio Łódź Sp. z o.o.", "Ōkami Audio 株式会社", "Émile & Fils"} <= vendors
    for row in data:
        assert row[0].startswith("INV-2026-") or row[0].startswith("INV-2025-")
        assert row[2] == "TBD" or amount_form(row[2]) is not None, row
        assert date_form(row[5]) == date_form(row[6]) is not None, row
        assert parse_date(row[5]) < parse_date(row[6])
        assert parse_date(row[5]) < EPOCH
    assert {amount_form(row[2]) for row in data} == set(AMOUNT_FORMS) | {None}
    assert {date_form(row[5]) for row in data} == set(DATE_FORMS)


def test_demo_sheet_has_every_amount_and_date_form(demo):
    data = invoice_rows(demo)
    assert {amount_form(row[2]) for row in data} >= set(AMOUNT_FORMS)
    assert {date_form(row[5]) for row in data} == set(DATE_FORMS)
    assert {row[3] for row in data} == CURRENCIES


def test_budget_sheet_matches_invoice_lines(demo):
    assert demo.budget.title == "Budget" and demo.budget.rows[0] == BUDGET_HEADER
    lines = demo.budget.rows[1:]
    names = [line[0] for line in lines]
    assert len(set(names)) == len(names)
    departments = {d.name for d in demo.departments}
    milestones = {m.name for m in demo.milestones} | {""}
    owners = {p.display_name for p in demo.people}
    assert {line[1] for line in lines} == departments  # every department has a line
    for line in lines:
        assert line[2] in milestones and line[5] in owners and line[4] in {"USD", "EUR"}
        assert AMOUNT_FORMS["plain"].match(line[3]) or amount_form(line[3]), line
    assert Counter(line[4] for line in lines).most_common(1)[0][0] == "USD"
    milestone_of = {line[0]: line[2] for line in lines}
    for row in invoice_rows(demo):
        if row[8] in milestone_of:
            assert row[7] == milestone_of[row[8]], row


# Memory: repeated values are shared objects, not copies


def test_repeated_values_are_shared(mid):
    issues, tasks = mid.jira_issues, mid.sg_tasks
    assert len({id(i.status) for i in issues}) == len(mid.jira_statuses)
    assert len({id(i.labels) for i in issues}) < 60
    assert len({id(i.sprint) for i in issues}) < 40
    assert len({id(t.due_date) for t in tasks}) < 800
    assert len({id(t.milestone) for t in tasks}) <= len(mid.milestones) + 1
    assert len({id(t.content) for t in tasks}) == len(mid.steps)


# Helpers


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Łukasz", "lukasz"), ("Søren", "soren"), ("Ødegaard", "odegaard"),
     ("María José", "mariajose"), ("太郎", "taro"), ("Петрова", "petrova"),
     ("O'Connor", "oconnor"), ("Groß", "gross"), ("Đặng", "dang")],
)  # fmt: skip
def test_ascii_fold(text, folded):
    assert ascii_fold(text) == folded


@pytest.mark.parametrize(
    ("amount", "currency", "style", "typed"),
    [(1200.5, "USD", "symbol", "$1,200.50"), (1200.5, "EUR", "symbol", "1.200,50 €"),
     (950.0, "GBP", "symbol", "£950"), (1200.5, "USD", "plain", "1200.5"),
     (3400.0, "EUR", "code", "EUR 3,400.00"), (150000.0, "JPY", "symbol", "¥150,000"),
     (2300.0, "CAD", "symbol", "CA$2,300.00"), (1200.0, "USD", "plain", "1200")],
)  # fmt: skip
def test_format_amount(amount, currency, style, typed):
    assert format_amount(amount, currency, style) == typed


@pytest.mark.parametrize(
    ("style", "typed"), [("iso", "2026-03-14"), ("slash", "14/03/2026"), ("month", "Mar 14, 2026")]
)
def test_format_date(style, typed):
    assert format_date(date(2026, 3, 14), style) == typed


# The benchmark size (correctness only; timings are in bench/sandbox_dataset.py)


@pytest.mark.slow
def test_bench_size_is_consistent_and_has_its_mess():
    production = generate(issues=BENCH)
    sizes = plan_sizes(BENCH)
    assert len(production.jira_issues) == BENCH
    assert len(production.sg_tasks) == sizes.sg_tasks
    assert len(production.people) == sizes.people == 300
    assert len(invoice_rows(production)) == 5_000
    assert_integrity(production)
    assert_plants(production)
