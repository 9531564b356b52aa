"""The figures the consolidated sheet must show, computed here from the records directly.

Written from the definitions in docs/rollups.md, without syncd.rollups' code: plain loops
over the translated records (see seeded.py), so a mistake in a rollup shows as a mismatch
instead of being copied. Each table is (title, [(header, kind)], rows, notes).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from syncd.rollups.model import ConnectorRun, RollupInput

D0 = Decimal(0)
STATUS_ORDER = ["on_hold", "waiting", "ready", "in_progress", "review", "approved", "final",
                "omitted"]  # fmt: skip


def q(value: Decimal, step: str = "0.01") -> Decimal:
    out = value.quantize(Decimal(step), rounding=ROUND_HALF_EVEN)
    return abs(out) if out == 0 else out


def pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if whole <= 0 else q(Decimal(part) / Decimal(whole), "0.0001")


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Config:
    milestones: dict[str, date]
    capacity: dict[str, float]
    departments: list[str]
    rates: dict[str, float]
    steps: list[str]
    window: int = 14
    horizon: int = 14
    burnup_weeks: int = 12
    person_hours: float = 32
    overloaded_at: Decimal = Decimal(1)
    over_budget_at: Decimal = Decimal(1)
    stale_hours: float = 24


class Expected:
    """Every table of every tab, by tab title."""

    def __init__(self, data: RollupInput, config: Config) -> None:
        self.data, self.c = data, config
        self.today = data.now.date()
        self.tasks = [e.record for e in data.tasks]
        self.open = [t for t in self.tasks if t.status not in ("done", "omitted")]

    def hours(self, tasks) -> Decimal:
        return sum((t.estimate_hours or D0 for t in tasks), D0)

    def overdue(self, t) -> bool:
        return (
            t.status not in ("done", "omitted")
            and t.due_date is not None
            and (t.due_date < self.today)
        )

    # -- milestones --------------------------------------------------------------------------

    def milestone_rows(self) -> list[dict[str, Any]]:
        out = []
        since = self.data.now - timedelta(days=self.c.window)
        for name, due in sorted(self.c.milestones.items(), key=lambda kv: (kv[1], kv[0])):
            entries = [e for e in self.data.tasks
                       if e.record.milestone == name and e.record.status != "omitted"]  # fmt: skip
            tasks = [e.record for e in entries]
            done = [t for t in tasks if t.status == "done"]
            still = [t for t in tasks if t.status != "done"]
            burned = sum(
                (e.record.estimate_hours or D0 for e in entries
                 if e.record.status == "done" and since < e.changed_at["status"] <= self.data.now),
                D0,
            )  # fmt: skip
            remaining = self.hours(still)
            forecast = None
            if remaining > 0 and burned > 0:
                forecast = self.today + timedelta(
                    days=math.ceil(remaining * self.c.window / burned)
                )
            if not tasks:
                status = "no tasks"
            elif not still:
                status = "complete"
            elif remaining == 0:
                status = "unestimated"
            elif due < self.today:
                status = "overdue"
            elif burned == 0:
                status = "stalled"
            else:
                status = "on course" if forecast is not None and forecast <= due else "behind"
            out.append({
                "name": name, "due": due, "status": status, "forecast": forecast,
                "slack": (due - forecast).days if forecast else None, "tasks": len(tasks),
                "done": len(done), "done_pct": pct(len(done), len(tasks)),
                "estimate": q(self.hours(tasks)), "done_h": q(self.hours(done)),
                "done_h_pct": pct(self.hours(done), self.hours(tasks)),
                "remaining": q(remaining), "burn": q(burned / self.c.window),
                "burned": burned,
                "overdue": sum(1 for t in tasks if self.overdue(t)),
                "blocked": sum(1 for t in tasks if t.status == "blocked"),
                "unestimated": sum(1 for t in still if t.estimate_hours is None),
            })  # fmt: skip
        return out

    def focus(self) -> dict[str, Any] | None:
        rows = [r for r in self.milestone_rows() if r["status"] not in ("complete", "no tasks")]
        ahead = [r for r in rows if r["due"] >= self.today]
        candidates = ahead or rows
        return candidates[0] if candidates else None

    def milestones_tab(self) -> list[Table]:
        rows = self.milestone_rows()
        columns = [("Milestone", "text"), ("Due", "date"), ("Status", "status"),
                   ("Forecast finish", "date"), ("Slack (days)", "int"), ("Tasks", "int"),
                   ("Done", "int"), ("Done %", "percent"), ("Estimate (h)", "hours"),
                   ("Done (h)", "hours"), ("Hours done %", "percent"), ("Remaining (h)", "hours"),
                   ("Burn (h/day)", "hours"), ("Overdue", "int"), ("Blocked", "int"),
                   ("Unestimated", "int")]  # fmt: skip
        keys = ["name", "due", "status", "forecast", "slack", "tasks", "done", "done_pct",
                "estimate", "done_h", "done_h_pct", "remaining", "burn", "overdue", "blocked",
                "unestimated"]  # fmt: skip
        no_milestone = sum(1 for t in self.tasks if t.status != "omitted" and not t.milestone)
        notes = [
            f"Burn rate: estimate hours of the milestone's tasks done in the last {self.c.window} "
            f"days, per day. Forecast finish: today + remaining hours / burn rate.",
            f"{no_milestone} tasks name no milestone and are not in this table.",
        ]
        disputed = len({c.record_id for c in self.data.conflicts if c.field == "status"})
        if disputed:
            notes.append(
                f"{disputed} tasks have their status in conflict: they count with the status "
                "the tools last agreed on (unknown, so open, if they never agreed) until a "
                "person decides; see the sync health tab."
            )
        tables = [Table("Milestone progress", columns, [[r[k] for k in keys] for r in rows], notes)]
        focus = self.focus()
        if focus is not None:
            tables.append(self.burnup(focus))
        return tables

    def burnup(self, focus: dict[str, Any]) -> Table:
        name = focus["name"]
        entries = [e for e in self.data.tasks
                   if e.record.milestone == name and e.record.status != "omitted"]  # fmt: skip
        scope = q(self.hours(e.record for e in entries))
        done = [(e.changed_at.get("status"), e.record.estimate_hours or D0)
                for e in entries if e.record.status == "done"]  # fmt: skip
        rows = []
        for k in range(self.c.burnup_weeks - 1, -1, -1):
            day = self.today - timedelta(days=7 * k)
            so_far = q(sum((h for at, h in done if at is None or at.date() <= day), D0))
            rows.append([day, so_far, scope, so_far if k == 0 else None])
        now_done = sum((h for _, h in done), D0)
        weeks = min(math.ceil((focus["due"] - self.today).days / 7), 26)
        for k in range(1, weeks + 1):
            projected = min(scope, now_done + focus["burned"] * 7 * k / self.c.window)
            rows.append([self.today + timedelta(days=7 * k), None, scope, q(projected)])
        columns = [("Week ending", "date"), ("Done (h)", "hours"), ("Scope (h)", "hours"),
                   ("Projected (h)", "hours")]  # fmt: skip
        return Table(f"Burn-up: {focus['name']}", columns, rows)

    # -- load --------------------------------------------------------------------------------

    def load(self, tasks, capacity: float | None) -> dict[str, Any]:
        horizon = self.today + timedelta(days=self.c.horizon)
        due_soon = self.hours(t for t in tasks if t.due_date and t.due_date <= horizon)
        open_h = self.hours(tasks)
        cap = None if capacity is None else Decimal(str(capacity))
        return {
            "capacity": None if cap is None else q(cap), "open": len(tasks), "open_h": q(open_h),
            "soon": q(due_soon), "load": pct(due_soon, cap * self.c.horizon / 7) if cap else None,
            "weeks": q(open_h / cap) if cap else None,
            "overdue": sum(1 for t in tasks if self.overdue(t)),
            "blocked": sum(1 for t in tasks if t.status == "blocked"),
            "unassigned": sum(1 for t in tasks if not t.assignee),
            "unassigned_h": q(self.hours(t for t in tasks if not t.assignee)),
            "unestimated": sum(1 for t in tasks if t.estimate_hours is None),
        }  # fmt: skip

    def departments(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (name, self.load([t for t in self.open if t.department == name],
                             self.c.capacity.get(name)))
            for name in self.c.departments
        ]  # fmt: skip

    def load_tab(self) -> list[Table]:
        dept_rows = [
            [name, d["capacity"], d["open"], d["open_h"], d["soon"], d["load"], d["weeks"],
             d["overdue"], d["blocked"], d["unassigned"], d["unassigned_h"], d["unestimated"]]
            for name, d in self.departments()
        ]  # fmt: skip
        by_person: dict[str, list[Any]] = defaultdict(list)
        for t in self.open:
            by_person[t.assignee or ""].append(t)
        people = []
        for person, tasks in by_person.items():
            if not person:
                continue
            counts = Counter(t.department or "(no department)" for t in tasks)
            department = sorted(counts, key=lambda n: (-counts[n], n))[0]
            people.append((department, person, self.load(tasks, self.c.person_hours)))
        people.sort()
        people_rows = [
            [person, dept, d["capacity"], d["open"], d["open_h"], d["soon"], d["load"],
             d["overdue"], d["blocked"], d["unestimated"]]
            for dept, person, d in people
        ]  # fmt: skip
        if "" in by_person:
            d = self.load(by_person[""], None)
            people_rows.append(["(unassigned)", None, None, d["open"], d["open_h"], d["soon"],
                                None, d["overdue"], d["blocked"], d["unestimated"]])  # fmt: skip
        shared = [("Open tasks", "int"), ("Open (h)", "hours"), ("Due soon (h)", "hours"),
                  ("Load %", "percent")]  # fmt: skip
        return [
            Table("Department load",
                  [("Department", "text"), ("Capacity (h/week)", "hours"), *shared,
                   ("Weeks of work", "number"), ("Overdue", "int"), ("Blocked", "int"),
                   ("Unassigned", "int"), ("Unassigned (h)", "hours"), ("Unestimated", "int")],
                  dept_rows),
            Table("People load",
                  [("Person", "text"), ("Department", "text"), ("Capacity (h/week)", "hours"),
                   *shared, ("Overdue", "int"), ("Blocked", "int"), ("Unestimated", "int")],
                  people_rows),
        ]  # fmt: skip

    # -- pipeline ------------------------------------------------------------------------------

    def pipeline_tab(self) -> list[Table]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for e in self.data.assets:
            counts[e.record.asset_type or "(no type)"][e.record.pipeline_status or "unknown"] += 1
        count_rows = [
            [kind, sum(c.values()), *(c.get(s, 0) for s in [*STATUS_ORDER, "unknown"])]
            for kind, c in sorted(counts.items())
        ]
        cells: dict[tuple[str, str], tuple[int, str]] = {}
        for t in self.data.tasks:
            if not (t.step and t.record.linked_asset):
                continue
            status = t.record.pipeline_status
            if status is None:
                raw = next(f.value for f in t.flags if f.field == "pipeline_status")
                ranked = (-1, f"unmapped: {raw}")
            else:
                ranked = (STATUS_ORDER.index(status), status.replace("_", " "))
            key = (t.record.linked_asset, t.step)
            cells[key] = min(cells.get(key, ranked), ranked)
        matrix = []
        assets = sorted((e.record for e in self.data.assets),
                        key=lambda a: (a.asset_type or "", a.name or ""))  # fmt: skip
        for a in assets:
            found = [cells.get((a.name or "", s)) for s in self.c.steps]
            matrix.append([a.name, a.asset_type, (a.pipeline_status or "?").replace("_", " "),
                           *(f[1] if f else None for f in found)])  # fmt: skip
        status_headers = ["On hold", "Waiting", "Ready", "In progress", "Review", "Approved",
                          "Final", "Omitted", "Unknown"]  # fmt: skip
        return [
            Table("Assets per status",
                  [("Asset type", "text"), ("Assets", "int"),
                   *((h, "int") for h in status_headers)], count_rows),
            Table("Pipeline matrix",
                  [("Asset", "text"), ("Type", "text"), ("Status", "status"),
                   *((s, "status") for s in self.c.steps)], matrix),
        ]  # fmt: skip

    # -- budget --------------------------------------------------------------------------------

    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None:
        if currency == "USD":
            return amount
        rate = self.c.rates.get(currency or "")
        return None if rate is None else amount * Decimal(str(rate))

    def spend(self, budget_items, invoices) -> dict[str, Any]:
        out: dict[str, Any] = {"budget": None, "invoiced": D0, "approved": D0, "paid": D0,
                               "count": 0, "skip": []}  # fmt: skip
        for item in budget_items:
            value = self.convert(item.amount, item.currency)
            out["budget"] = value if out["budget"] is None else out["budget"] + value
        for inv in sorted(invoices, key=lambda i: i.number):
            out["count"] += 1
            if inv.amount is None:
                out["skip"].append(f"{inv.number} (no amount)")
                continue
            if inv.status is None:
                out["skip"].append(f"{inv.number} (status unreadable)")
                continue
            value = self.convert(inv.amount, inv.currency)
            if value is None:
                out["skip"].append(f"{inv.number} ({inv.currency} {inv.amount:,.2f}: no rate)")
                continue
            if inv.status in ("submitted", "approved", "paid", "disputed"):
                out["invoiced"] += value
            if inv.status in ("approved", "paid"):
                out["approved"] += value
            if inv.status == "paid":
                out["paid"] += value
        return out

    def money(self, s: dict[str, Any]) -> list[Any]:
        budget = s["budget"]
        return [
            None if budget is None else q(budget), q(s["invoiced"]), q(s["approved"]),
            q(s["paid"]), None if budget is None else q(budget - s["approved"]),
            None if budget is None else pct(s["approved"], budget),
        ]  # fmt: skip

    def budget_tab(self) -> list[Table]:
        lines = {e.record.name or "": e.record for e in self.data.budget_lines}
        invoices = [e.record for e in self.data.invoices if e.record.status != "void"]
        line_rows = []
        for name in sorted(lines):
            line = lines[name]
            s = self.spend([line], [i for i in invoices if i.budget_line == name])
            line_rows.append([name, line.department, line.milestone, *self.money(s), s["count"],
                              "; ".join(s["skip"]) or None])  # fmt: skip
        assert all(i.budget_line for i in invoices)  # no "(no line)" row in the seeded data
        unknown = sorted({i.budget_line or "" for i in invoices} - set(lines))
        for name in unknown:
            s = self.spend([], [i for i in invoices if i.budget_line == name])
            line_rows.append([f"(unknown line) {name}", None, None, *self.money(s), s["count"],
                              "; ".join(s["skip"]) or None])  # fmt: skip
        per_milestone = []
        order = sorted(self.c.milestones, key=lambda n: (self.c.milestones[n], n))

        def milestone_of(inv):
            line = lines.get(inv.budget_line or "")
            return inv.milestone or (line.milestone if line else None) or "(project-wide)"

        for name in [*order, "(project-wide)"]:
            items = [
                line for line in lines.values() if (line.milestone or "(project-wide)") == name
            ]
            mine = [i for i in invoices if milestone_of(i) == name]
            if items or mine:
                per_milestone.append([name, *self.money(self.spend(items, mine))])
        per_milestone.append(["Total", *self.money(self.spend(lines.values(), invoices))])
        overdue: list[list[Any]] = []
        for e in self.data.invoices:
            inv = e.record
            if (
                inv.status in ("submitted", "approved", "disputed")
                and inv.due
                and inv.due < self.today
            ):
                value = None if inv.amount is None else self.convert(inv.amount, inv.currency)
                billed = "no amount" if inv.amount is None else f"{inv.currency} {inv.amount:,.2f}"
                overdue.append([inv.number, inv.vendor, inv.budget_line, inv.status, inv.due,
                                (self.today - inv.due).days,
                                None if value is None else q(value), billed])  # fmt: skip
        overdue.sort(key=lambda r: (-r[5], r[0]))
        money = [("Budget", "money"), ("Invoiced", "money"), ("Approved", "money"),
                 ("Paid", "money"), ("Variance", "money"), ("Burn %", "percent")]  # fmt: skip
        return [
            Table("Budget lines",
                  [("Budget line", "text"), ("Department", "text"), ("Milestone", "text"),
                   *money, ("Invoices", "int"), ("Not counted", "text")], line_rows),
            Table("Budget per milestone", [("Milestone", "text"), *money], per_milestone),
            Table("Invoices overdue for payment",
                  [("Invoice", "text"), ("Vendor", "text"), ("Budget line", "text"),
                   ("Status", "status"), ("Due", "date"), ("Days overdue", "int"),
                   ("Amount", "money"), ("As billed", "text")], overdue),
        ]  # fmt: skip

    # -- health --------------------------------------------------------------------------------

    def run_status(self, run: ConnectorRun) -> str:
        if run.status == "failed":
            return "failed"
        if run.last_success is None:
            return "never"
        if self.data.now - run.last_success > timedelta(hours=self.c.stale_hours):
            return "stale"
        return run.status

    def problems(self) -> list[list[Any]]:
        found = [[e.connector, e.entity, e.location or e.external_id, e.field, None, e.message,
                  e.seen_at] for e in self.data.source_errors]  # fmt: skip
        entries: list[Any] = [*self.data.tasks, *self.data.invoices, *self.data.assets,
                              *self.data.budget_lines]  # fmt: skip
        for e in entries:
            for flag in e.flags:
                src = next(s for s in e.sources if s.connector == flag.connector)
                kind = "unknown value" if flag.unknown else "unreadable value"
                found.append([flag.connector, src.entity, src.external_id, flag.field,
                              str(flag.value), f"{kind}: {flag.reason}",
                              e.changed_at.get(flag.field)])  # fmt: skip
        found.sort(key=lambda r: (r[0], r[1], r[2] or "", r[3] or "", r[5]))
        return found

    def health_tab(self) -> list[Table]:
        runs = sorted(self.data.runs, key=lambda r: r.connector)
        run_rows = [[r.connector, self.run_status(r), r.started_at, r.finished_at,
                     r.last_success, r.message] for r in runs]  # fmt: skip
        labels = {e.id: (e.record.title or e.record.jira_key) for e in self.data.tasks}
        sources = {e.id: e.sources for e in self.data.tasks}
        tools = sorted({n for c in self.data.conflicts for n in c.candidates})
        conflict_rows = []
        for c in sorted(self.data.conflicts, key=lambda c: (c.opened_at, c.id)):
            values = " · ".join(f"{k}: {v}" for k, v in sorted(c.candidates.items()))
            row = [labels[c.record_id], c.kind, c.field, values, "(empty)", c.opened_at]
            for tool in tools:
                src = next((s for s in sources[c.record_id] if s.connector == tool), None)
                row.append(src.external_id if src else None)
            conflict_rows.append(row)
        return [
            Table("Connectors",
                  [("Connector", "text"), ("Status", "status"), ("Last run", "datetime"),
                   ("Finished", "datetime"), ("Last success", "datetime"), ("Message", "text")],
                  run_rows),
            Table("Open conflicts",
                  [("Record", "link"), ("Kind", "text"), ("Field", "text"), ("Values", "text"),
                   ("Was", "text"), ("Opened", "datetime"),
                   *((f"In {tool}", "link") for tool in tools)], conflict_rows),
            Table("Unreadable rows and values",
                  [("Connector", "text"), ("Sheet / entity", "text"), ("Row / record", "text"),
                   ("Field", "text"), ("Value", "text"), ("Problem", "text"),
                   ("Since", "datetime")], self.problems()),
        ]  # fmt: skip

    # -- summary -------------------------------------------------------------------------------

    def summary_tab(self) -> list[Table]:
        focus = self.focus()
        assert focus is not None
        days = (focus["due"] - self.today).days
        slack = focus["slack"]
        course = f"forecast finish {focus['forecast'].isoformat()}"
        course += f", {abs(slack)} days " + ("to spare" if slack >= 0 else "late")
        overdue = [t for t in self.open if self.overdue(t)]
        blocked = [t for t in self.open if t.status == "blocked"]
        unassigned = [t for t in self.open if not t.assignee]

        def top(counter: Counter[str]) -> str:
            ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            return ", ".join(f"{k} ({n})" for k, n in ranked)

        overloaded = [(n, d["load"]) for n, d in self.departments()
                      if d["load"] is not None and d["load"] > self.c.overloaded_at]  # fmt: skip
        budget = self.budget_tab()
        total = budget[1].rows[-1]
        over = [r[0] for r in budget[0].rows if r[8] is not None and r[8] > self.c.over_budget_at]
        overdue_invoices = budget[2].rows
        unpaid = sum((r[6] for r in overdue_invoices if r[6]), D0)
        usd = lambda v: "-" if v is None else f"USD {v:,.2f}"  # noqa: E731
        runs = sorted(self.data.runs, key=lambda r: r.connector)
        fields = Counter(c.field for c in self.data.conflicts)
        problems = len(self.problems())
        rows = [
            ["Next milestone", focus["name"], f"due {focus['due'].isoformat()} (in {days} days)"],
            ["On course?", focus["status"], course],
            ["Next milestone done", focus["done_h_pct"],
             f"{focus['done_h']:,.2f} of {focus['estimate']:,.2f} estimate hours; "
             f"{focus['done']} of {focus['tasks']} tasks"],
            ["Overdue tasks", len(overdue),
             f"most: {top(Counter(t.assignee or '(unassigned)' for t in overdue))}"],
            ["Blocked tasks", len(blocked),
             f"most: {top(Counter(t.department or '(no department)' for t in blocked))}"],
            ["Overloaded departments", len(overloaded),
             ", ".join(f"{n} ({v:.0%})" for n, v in overloaded) or "none"],
            ["Unassigned open tasks", len(unassigned),
             f"{q(self.hours(unassigned)):,.2f} estimate hours"],
            ["Budget burn", total[6],
             f"{usd(total[3])} approved of {usd(total[1])}; {usd(total[2])} invoiced, "
             f"{usd(total[4])} paid"],
            ["Lines over budget", len(over), ", ".join(over[:3]) or "none"],
            ["Invoices overdue for payment", len(overdue_invoices),
             f"{usd(unpaid)} unpaid past due"],
            ["Open conflicts", len(self.data.conflicts), f"fields: {top(fields)}"],
            ["Unreadable values", problems, "see the sync health tab"],
            ["Last sync (oldest connector)", min(r.last_success for r in runs if r.last_success),
             " · ".join(f"{r.connector} {self.run_status(r)}" for r in runs)],
        ]  # fmt: skip
        return [
            Table("Summary", [("Figure", "text"), ("Value", "mixed"), ("Detail", "text")], rows)
        ]

    def tabs(self) -> dict[str, list[Table]]:
        return {
            "syncd · Summary": self.summary_tab(),
            "syncd · Milestones": self.milestones_tab(),
            "syncd · Load": self.load_tab(),
            "syncd · Pipeline": self.pipeline_tab(),
            "syncd · Budget": self.budget_tab(),
            "syncd · Sync health": self.health_tab(),
        }


SUMMARY_KINDS = {
    "Next milestone": "text", "On course?": "status", "Next milestone done": "percent",
    "Overdue tasks": "int", "Blocked tasks": "int", "Overloaded departments": "int",
    "Unassigned open tasks": "int", "Budget burn": "percent", "Lines over budget": "int",
    "Invoices overdue for payment": "int", "Open conflicts": "int", "Unreadable values": "int",
    "Last sync (oldest connector)": "datetime",
}  # fmt: skip


def as_datetime(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value
