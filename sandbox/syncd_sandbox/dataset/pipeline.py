"""The ShotGrid side: assets, cinematic shots, and their pipeline tasks.

Each entity is scheduled back from its milestone through its pipeline steps, and each
task's status follows from how its due date sits against the epoch: long-past work is
mostly final, current work is in progress or in review, future work is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from syncd_sandbox.dataset.draw import Draw, Weighted, band
from syncd_sandbox.dataset.schedule import Calendar
from syncd_sandbox.dataset.vocabulary import (
    ASSET_NOUNS,
    ASSET_TYPES,
    ASSET_VARIANTS,
    SHOT_SHARE,
    SHOT_STEPS,
    STEP_PLAN,
)
from syncd_sandbox.production import Milestone, Person, SgAsset, SgShot, SgTask, Step

UNMAPPED_SG_STATUS = "cbb"  # "could be better": a studio-added code no mapping knows
SG_STATUS_CODES = ("wtg", "rdy", "ip", "rev", "apr", "fin", "hld", "omt", UNMAPPED_SG_STATUS)
# ShotGrid numbers each entity type on its own, so Asset 1001 and Shot 1001 both exist:
# (entity_type, entity_id) is the key, as it is in ShotGrid.
FIRST_ENTITY_ID = 1001
FIRST_TASK_ID = 5001
DAY = 86_400
PROJECT_DAYS = 300  # how long before the epoch the project started

# Status shares by where the due date sits: (due before this many days from the epoch, shares).
_STATUS_BY_DUE: tuple[tuple[int, Weighted[str]], ...] = (
    (-45, Weighted((("fin", 70), ("apr", 15), ("omt", 4), ("hld", 3), ("rev", 3), ("ip", 3),
                    ("wtg", 1), ("cbb", 1)))),
    (0, Weighted((("fin", 30), ("apr", 20), ("rev", 15), ("ip", 20), ("hld", 5), ("wtg", 4),
                  ("rdy", 3), ("omt", 2), ("cbb", 1)))),
    (30, Weighted((("ip", 35), ("rdy", 20), ("rev", 12), ("wtg", 15), ("apr", 8), ("fin", 4),
                   ("hld", 5), ("omt", 1)))),
    (10**6, Weighted((("wtg", 60), ("rdy", 20), ("ip", 12), ("hld", 3), ("omt", 2),
                      ("rev", 2), ("fin", 1)))),
)  # fmt: skip


_STATUS_UNSCHEDULED = Weighted((("wtg", 70), ("rdy", 15), ("hld", 10), ("omt", 5)))
_UNASSIGNED_SHARE = {"wtg": 0.35, "rdy": 0.15, "omt": 0.5}  # others: 0.04
_ASSET_MILESTONES = (15, 25, 25, 20, 10, 5)  # share of entities due at M1..M6
_SHOT_MILESTONES = (0, 10, 20, 30, 25, 15)
WORKDAY_MINUTES = 480


class TaskDraft(NamedTuple):
    """A task before its Jira key is known: keys follow the creation order of all issues,
    which depends on when each task was created."""

    id: int
    content: str
    entity_type: str
    entity_id: int
    step_id: int
    assignee_ids: tuple[int, ...]
    status: str
    start_date: date | None
    due_date: date | None
    est_in_mins: int | None
    milestone: str | None
    created_s: int  # seconds before the epoch
    updated_s: int

    def build(self, jira_key: str | None) -> SgTask:
        """The finished task, linked to `jira_key` on the ShotGrid side."""
        return SgTask(
            id=self.id,
            content=self.content,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            step_id=self.step_id,
            assignee_ids=self.assignee_ids,
            status=self.status,
            start_date=self.start_date,
            due_date=self.due_date,
            est_in_mins=self.est_in_mins,
            milestone=self.milestone,
            jira_key=jira_key,
            created_at=Calendar.at(self.created_s),
            updated_at=Calendar.at(self.updated_s),
        )


@dataclass(slots=True)
class Pipeline:
    """What `build_pipeline` made; tasks stay a list so planted mess can replace items."""

    assets: list[SgAsset] = field(default_factory=list)
    shots: list[SgShot] = field(default_factory=list)
    tasks: list[TaskDraft] = field(default_factory=list)
    entity_codes: dict[tuple[str, int], str] = field(default_factory=dict)


def build_steps() -> tuple[Step, ...]:
    """The ten pipeline steps and the department doing each."""
    return tuple(Step(id=id_, name=name, department=dept) for id_, name, dept, _ in STEP_PLAN)


def build_pipeline(
    draw: Draw,
    calendar: Calendar,
    milestones: tuple[Milestone, ...],
    people: tuple[Person, ...],
    task_count: int,
) -> Pipeline:
    """Assets and shots until there are `task_count` tasks."""
    builder = _Builder(draw, calendar, milestones, people)
    while len(builder.pipeline.tasks) < task_count:
        remaining = task_count - len(builder.pipeline.tasks)
        if draw.chance(SHOT_SHARE):
            builder.add_shot(remaining)
        else:
            builder.add_asset(remaining)
    return builder.pipeline


def entity_status(statuses: list[str]) -> str:
    """An asset's or shot's own status, summarising its tasks' statuses."""
    codes = set(statuses)
    if codes <= {"omt"}:
        return "omt"
    if codes <= {"fin", "omt"}:
        return "fin"
    if codes <= {"fin", "apr", "omt"}:
        return "apr"
    if codes == {"wtg"}:
        return "wtg"
    if codes & {"ip", "rev", UNMAPPED_SG_STATUS}:
        return "ip"
    return "hld" if "hld" in codes else "rdy"


class _Builder:
    """Adds one entity at a time, with its tasks, to a growing `Pipeline`."""

    def __init__(
        self,
        draw: Draw,
        calendar: Calendar,
        milestones: tuple[Milestone, ...],
        people: tuple[Person, ...],
    ) -> None:
        self.pipeline = Pipeline()
        self._draw, self._calendar = draw, calendar
        self._asset_milestones = Weighted(zip(milestones, _ASSET_MILESTONES, strict=True))
        self._shot_milestones = Weighted(zip(milestones, _SHOT_MILESTONES, strict=True))
        self._asset_types = Weighted((name, spec[1]) for name, spec in ASSET_TYPES.items())
        self._steps = {name: (id_, dept, days) for id_, name, dept, days in STEP_PLAN}
        self._crew: dict[str, list[int]] = {}
        for person in people:
            self._crew.setdefault(person.department, []).append(person.sg_user_id)
        self._codes = {kind: self._shuffled_codes(kind) for kind in ASSET_TYPES}
        self._code_uses = dict.fromkeys(ASSET_TYPES, 0)
        self._sequence, self._shots_left_in_sequence, self._shot_in_sequence = 0, 0, 0

    def add_asset(self, remaining: int) -> None:
        """One asset and its tasks (at most `remaining` of them)."""
        asset_type = self._asset_types.draw(self._draw)
        code, description = self._next_code(asset_type)
        asset_id = FIRST_ENTITY_ID + len(self.pipeline.assets)
        steps = ASSET_TYPES[asset_type][2][:remaining]
        milestone = self._asset_milestones.draw(self._draw)
        status, created_s, updated_s = self._add_tasks("Asset", asset_id, code, steps, milestone)
        self.pipeline.assets.append(
            SgAsset(
                id=asset_id,
                code=code,
                asset_type=asset_type,
                status=status,
                description=description,
                created_at=self._calendar.at(created_s),
                updated_at=self._calendar.at(updated_s),
            )
        )

    def add_shot(self, remaining: int) -> None:
        """One cinematic shot in the current sequence and its tasks."""
        if self._shots_left_in_sequence == 0:
            self._sequence += 1
            self._shots_left_in_sequence = self._draw.between(6, 24)
            self._shot_in_sequence = 0
        self._shots_left_in_sequence -= 1
        self._shot_in_sequence += 1
        sequence = f"SQ{self._sequence * 10:03d}"
        code = f"{sequence}_SH{self._shot_in_sequence * 10:04d}"
        shot_id = FIRST_ENTITY_ID + len(self.pipeline.shots)
        steps = tuple(s for s in SHOT_STEPS if s != "FX" or self._draw.chance(0.55))
        milestone = self._shot_milestones.draw(self._draw)
        status, created_s, updated_s = self._add_tasks(
            "Shot", shot_id, code, steps[:remaining], milestone
        )
        cut_in = 1001  # the usual first frame, leaving room for handles
        cut_out = cut_in + self._draw.between(48, 360) - 1
        self.pipeline.shots.append(
            SgShot(
                id=shot_id,
                code=code,
                sequence=sequence,
                status=status,
                cut_in=cut_in,
                cut_out=cut_out,
                created_at=self._calendar.at(created_s),
                updated_at=self._calendar.at(updated_s),
            )
        )

    def _add_tasks(
        self,
        entity_type: str,
        entity_id: int,
        code: str,
        steps: tuple[str, ...],
        milestone: Milestone,
    ) -> tuple[str, int, int]:
        """Schedule `steps` back from the milestone; returns (status, created_s, updated_s)."""
        draw, tasks = self._draw, self.pipeline.tasks
        self.pipeline.entity_codes[(entity_type, entity_id)] = code
        end = self._calendar.offset(milestone.due) - draw.between(0, 14)
        planned: list[tuple[str, int, int, int]] = []  # (step, working days, start, due)
        for step in reversed(steps):
            low, high = self._steps[step][2]
            days = draw.between(low, high)
            start = end - (days * 7 + 4) // 5  # working days to calendar days
            planned.append((step, days, start, end))
            end = start - draw.between(0, 3)
        statuses: list[str] = []
        oldest = 0
        for step, days, start, due in reversed(planned):
            index = len(tasks)
            task = self._task(index, (entity_type, entity_id), step, days, (start, due), milestone)
            statuses.append(task.status)
            oldest = task.created_s if task.created_s > oldest else oldest
            tasks.append(task)
        created_s = min(oldest + draw.between(1, 5) * DAY, (PROJECT_DAYS + 20) * DAY)
        return entity_status(statuses), created_s, int(created_s * draw.random() * 0.97)

    def _task(
        self,
        index: int,
        entity: tuple[str, int],
        step: str,
        days: int,
        dates: tuple[int, int],
        milestone: Milestone,
    ) -> TaskDraft:
        """One task, scheduled from `dates` (start, due) in days from the epoch."""
        # The hot loop of a 100k production: bare `random()` draws rather than Draw helpers.
        rnd, calendar = self._draw.random, self._calendar
        (entity_type, entity_id), (start, due) = entity, dates
        step_id, department, _ = self._steps[step]
        scheduled = rnd() >= 0.06
        status = (band(_STATUS_BY_DUE, due) if scheduled else _STATUS_UNSCHEDULED).draw(self._draw)
        crew = self._crew[department]
        assignees: tuple[int, ...] = ()
        if rnd() >= _UNASSIGNED_SHARE.get(status, 0.04):
            assignees = (crew[int(rnd() * len(crew))],)
            if rnd() < 0.06:
                second = crew[int(rnd() * len(crew))]
                assignees = assignees if second == assignees[0] else (*assignees, second)
        est = None if rnd() < 0.06 else days * WORKDAY_MINUTES - (240 if rnd() < 0.5 else 0)
        # A task is created days to weeks before its work starts, and never before the project.
        if scheduled:
            created_days = (-start if start < 0 else 0) + 3 + int(rnd() * 43)
        else:
            created_days = 1 + int(rnd() * 200)
        if created_days > PROJECT_DAYS:
            created_days = PROJECT_DAYS
        created_s = created_days * DAY - int(rnd() * (DAY - 3600))
        updated_s = int(created_s * rnd() * 0.97)
        return TaskDraft(
            id=FIRST_TASK_ID + index,
            content=step,
            entity_type=entity_type,
            entity_id=entity_id,
            step_id=step_id,
            assignee_ids=assignees,
            status=status,
            start_date=calendar.workday(start) if scheduled else None,
            due_date=calendar.workday(due) if scheduled else None,
            est_in_mins=est,
            milestone=None if rnd() < 0.03 else milestone.key,
            created_s=created_s,
            updated_s=updated_s,
        )

    def _shuffled_codes(self, asset_type: str) -> list[tuple[str, str]]:
        codes = [(n, v) for n in ASSET_NOUNS[asset_type] for v in ASSET_VARIANTS[asset_type]]
        self._draw.shuffle(codes)
        return codes

    def _next_code(self, asset_type: str) -> tuple[str, str]:
        """A fresh asset code and description; combinations repeat with a numeric suffix."""
        combos, used = self._codes[asset_type], self._code_uses[asset_type]
        self._code_uses[asset_type] = used + 1
        noun, variant = combos[used % len(combos)]
        round_ = used // len(combos)
        prefix = ASSET_TYPES[asset_type][0]
        code = f"{prefix}_{noun}_{variant}" + (f"_{round_ + 1:02d}" if round_ else "")
        return code, f"{asset_type}: {noun.replace('_', ' ').title()} ({variant})"
