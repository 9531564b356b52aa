"""Milestone progress, forecast and burn-up on small hand-made inputs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from syncd.rollups.milestones import all_progress, burnup, milestones_tab, next_milestone
from tests.rollups.build import NOW, TODAY, data, days, rows, settings, task

ALPHA, BETA = days(-18), days(95)
PLAN = settings(milestones={"Alpha": ALPHA, "Beta": BETA}, burn_window_days=14)


def by_name(input_data, config=PLAN):
    return {row.name: row for row in all_progress(input_data, config)}


def test_no_tasks_gives_rows_with_nothing_to_judge():
    progress = by_name(data())
    assert progress["Beta"].tasks == 0 and progress["Beta"].status == "no tasks"
    assert progress["Beta"].forecast is None and progress["Beta"].slack_days is None
    assert next_milestone(list(progress.values()), TODAY) is None
    table = milestones_tab(list(progress.values()), None, [], data(), PLAN).tables[0]
    assert [r["milestone"] for r in rows(table)] == ["Alpha", "Beta"]  # by due date
    assert rows(table)[0]["done_pct"] is None  # 0 / 0 is not 0%


def test_counts_hours_and_omitted_tasks():
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=8, done_days_ago=3),
        task(2, milestone="Beta", status="in_progress", estimate_hours=16),
        task(3, milestone="Beta", status="omitted", estimate_hours=100),  # cut: counts nowhere
        task(4, milestone="Beta", status="todo"),  # no estimate
        task(5, milestone="Beta", status=None, estimate_hours=2),  # unreadable status: open
    )
    beta = by_name(data(tasks=tasks))["Beta"]
    assert (beta.tasks, beta.done) == (4, 1)
    assert beta.estimate_h == Decimal("26.00")
    assert beta.done_h == Decimal("8.00")
    assert beta.remaining_h == Decimal("18.00")
    assert beta.unestimated == 1
    table = milestones_tab([beta], beta, [], data(tasks=tasks), PLAN).tables[0]
    [row] = rows(table)
    assert row["done_pct"] == Decimal("0.2500")
    assert row["done_h_pct"] == Decimal("0.3077")


def test_forecast_is_remaining_over_the_burn_rate_rounded_up():
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=8, done_days_ago=1),
        task(2, milestone="Beta", status="done", estimate_hours=6, done_days_ago=13.9),
        task(3, milestone="Beta", status="done", estimate_hours=50, done_days_ago=15),  # before
        task(4, milestone="Beta", status="done", estimate_hours=50),  # done, time unknown
        task(5, milestone="Beta", status="in_progress", estimate_hours=30),
    )
    beta = by_name(data(tasks=tasks))["Beta"]
    # 14 h done in the 14-day window: 1 h/day; 30 h remaining -> 30 days.
    assert beta.burn_per_day == Decimal("1.00")
    assert beta.forecast == TODAY + timedelta(days=30)
    assert beta.slack_days == (BETA - beta.forecast).days == 65
    assert beta.status == "on course"
    slow = by_name(data(tasks=tasks), settings(milestones={"Beta": days(20)}))["Beta"]
    assert slow.status == "behind" and slow.slack_days == -10


def test_forecast_rounds_up_partial_days():
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=3, done_days_ago=2),
        task(2, milestone="Beta", status="todo", estimate_hours=10),
    )
    beta = by_name(data(tasks=tasks))["Beta"]
    assert beta.forecast == TODAY + timedelta(days=47)  # ceil(10 * 14 / 3) = ceil(46.67)


def test_a_milestone_in_the_past_with_open_work_is_overdue():
    tasks = (
        task(1, milestone="Alpha", status="done", estimate_hours=4, done_days_ago=2),
        task(2, milestone="Alpha", status="blocked", estimate_hours=4, due_date=days(-20)),
    )
    alpha = by_name(data(tasks=tasks))["Alpha"]
    assert alpha.status == "overdue"
    assert alpha.overdue == 1 and alpha.blocked == 1
    assert alpha.slack_days is not None and alpha.slack_days < 0


def test_stalled_unestimated_and_complete():
    stalled = (task(1, milestone="Beta", status="todo", estimate_hours=5),)
    assert by_name(data(tasks=stalled))["Beta"].status == "stalled"
    unestimated = (task(1, milestone="Beta", status="todo"),)
    assert by_name(data(tasks=unestimated))["Beta"].status == "unestimated"
    complete = (task(1, milestone="Beta", status="done", estimate_hours=5),)
    assert by_name(data(tasks=complete))["Beta"].status == "complete"


def test_overdue_grace_days():
    tasks = (task(1, milestone="Beta", status="todo", due_date=days(-2)),)
    assert by_name(data(tasks=tasks))["Beta"].overdue == 1
    lenient = settings(milestones={"Beta": BETA}, overdue_after_days=2)
    assert by_name(data(tasks=tasks), lenient)["Beta"].overdue == 0  # due 2 days ago: not yet
    due_today = (task(1, milestone="Beta", status="todo", due_date=TODAY),)
    assert by_name(data(tasks=due_today))["Beta"].overdue == 0


def test_without_configured_milestones_every_named_one_is_listed_without_dates():
    tasks = (
        task(1, milestone="Zeta", status="todo", estimate_hours=1),
        task(2, milestone="Alpha", status="todo", estimate_hours=1, done_days_ago=1),
        task(3, milestone="Cut", status="omitted"),
    )
    progress = all_progress(data(tasks=tasks), settings())
    assert [(p.name, p.due) for p in progress] == [("Alpha", None), ("Zeta", None)]


def test_notes_name_tasks_outside_the_table():
    tasks = (
        task(1, milestone="Gamma", status="todo"),
        task(2, milestone="Gamma", status="todo"),
        task(3, status="todo"),
    )
    progress = all_progress(data(tasks=tasks), PLAN)
    notes = milestones_tab(progress, None, [], data(tasks=tasks), PLAN).tables[0].notes
    assert "1 tasks name no milestone and are not in this table." in notes
    assert "Tasks naming milestones missing from [rollup.milestones]: Gamma (2)." in notes


def test_next_milestone_skips_past_and_finished_ones():
    tasks = (
        task(1, milestone="Alpha", status="todo", estimate_hours=1),
        task(2, milestone="Beta", status="todo", estimate_hours=1),
    )
    progress = all_progress(data(tasks=tasks), PLAN)
    focus = next_milestone(progress, TODAY)
    assert focus is not None and focus.name == "Beta"
    only_past = all_progress(data(tasks=tasks[:1]), PLAN)
    focus = next_milestone(only_past, TODAY)
    assert focus is not None and focus.name == "Alpha"  # nothing ahead has work


def test_burnup_accumulates_done_hours_and_projects_to_the_due_date():
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=7, done_days_ago=1),
        task(2, milestone="Beta", status="done", estimate_hours=7, done_days_ago=10),
        task(3, milestone="Beta", status="done", estimate_hours=5),  # time unknown: from the start
        task(4, milestone="Beta", status="todo", estimate_hours=30),
        task(5, milestone="Beta", status="omitted", estimate_hours=99),
    )
    config = settings(milestones={"Beta": days(30)}, burnup_weeks=3)
    input_data = data(tasks=tasks)
    [beta] = all_progress(input_data, config)
    points = burnup(beta, input_data, config)
    assert [p.day for p in points] == [days(-14), days(-7), TODAY, days(7), days(14), days(21),
                                       days(28), days(35)]  # fmt: skip
    assert [p.done_h for p in points[:3]] == [Decimal("5.00"), Decimal("12.00"), Decimal("19.00")]
    assert {p.scope_h for p in points} == {Decimal("49.00")}
    # 14 h in 14 days = 1 h/day: +7 h a week from 19 h, capped at the scope.
    assert [p.projected_h for p in points] == [
        None, None, Decimal("19.00"), Decimal("26.00"), Decimal("33.00"), Decimal("40.00"),
        Decimal("47.00"), Decimal("49.00"),
    ]  # fmt: skip
    assert points[3].done_h is None


def test_window_edges():
    window = settings(milestones={"Beta": BETA}, burn_window_days=7)
    tasks = (
        task(1, milestone="Beta", status="done", estimate_hours=7, done_days_ago=7),  # edge: out
        task(2, milestone="Beta", status="done", estimate_hours=7, done_days_ago=0),  # now: in
        task(3, milestone="Beta", status="todo", estimate_hours=7),
    )
    beta = by_name(data(tasks=tasks), window)["Beta"]
    assert beta.burn_per_day == Decimal("1.00")
    assert beta.forecast == date(2026, 11, 9) and NOW.date() == date(2026, 11, 2)
