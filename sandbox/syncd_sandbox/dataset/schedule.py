"""The production's calendar: a fixed epoch, milestones, sprints, shared date objects.

Everything is relative to `EPOCH` (a Monday), never to today, so a seed always yields
the same production. Past and future milestones both exist relative to the epoch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from syncd_sandbox.production import Milestone

EPOCH = date(2026, 11, 2)
EPOCH_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # "now" of the seeded world

_EPOCH_TIMESTAMP = int(EPOCH_AT.timestamp())

# (key, name, days from the epoch): ShotGrid's sg_milestone stores the key, Jira's
# Milestone select stores the name, so the mappings have to translate between them.
MILESTONE_PLAN: tuple[tuple[str, str, int], ...] = (
    ("M1", "First Playable", -186),
    ("M2", "Vertical Slice", -95),
    ("M3", "Alpha", -18),
    ("M4", "Content Complete", 39),
    ("M5", "Beta", 95),
    ("M6", "Gold", 172),
)

SPRINT_DAYS = 14
ACTIVE_SPRINT = 24  # the sprint running at the epoch; it started on EPOCH - 7 days
_ACTIVE_SPRINT_START = -7

# How far from the epoch dates may fall; the cache covers the whole range.
_FIRST_DAY = -420
_LAST_DAY = 300


def build_milestones() -> tuple[Milestone, ...]:
    """The six milestones, in delivery order."""
    return tuple(
        Milestone(key=key, name=name, due=EPOCH + timedelta(days=offset))
        for key, name, offset in MILESTONE_PLAN
    )


class Calendar:
    """Dates by day offset from the epoch, cached so 100k records share date objects."""

    __slots__ = ("_days", "_sprints", "_workdays")

    def __init__(self) -> None:
        span = range(_FIRST_DAY, _LAST_DAY + 1)
        self._days = [EPOCH + timedelta(days=offset) for offset in span]
        # People schedule work on weekdays: a weekend due date moves back to the Friday.
        self._workdays = [day - timedelta(days=max(0, day.weekday() - 4)) for day in self._days]
        self._sprints = [f"Sprint {number}" for number in range(ACTIVE_SPRINT + 40)]

    def day(self, offset: int) -> date:
        """The date `offset` days from the epoch (clamped to the cached range)."""
        return self._days[self._index(offset)]

    def workday(self, offset: int) -> date:
        """Like `day`, but a Saturday or Sunday becomes the Friday before."""
        return self._workdays[self._index(offset)]

    def offset(self, day: date) -> int:
        """Days from the epoch to `day`."""
        return (day - EPOCH).days

    def sprint(self, offset: int) -> str | None:
        """The name of the two-week sprint running on that day, None before sprint 1."""
        number = ACTIVE_SPRINT + (offset - _ACTIVE_SPRINT_START) // SPRINT_DAYS
        if number < 1:
            return None
        return self._sprints[min(number, len(self._sprints) - 1)]

    def sprint_named(self, number: int) -> str:
        """The shared string "Sprint <number>"."""
        return self._sprints[number]

    @staticmethod
    def at(seconds_before_epoch: int) -> datetime:
        """The UTC instant that many seconds before `EPOCH_AT`."""
        # fromtimestamp is twice as fast as subtracting a timedelta, and exact for whole seconds.
        return datetime.fromtimestamp(_EPOCH_TIMESTAMP - seconds_before_epoch, UTC)

    @staticmethod
    def _index(offset: int) -> int:
        # Comparisons rather than min/max: this runs for every date of a 100k production.
        if offset < _FIRST_DAY:
            return 0
        return offset - _FIRST_DAY if offset <= _LAST_DAY else _LAST_DAY - _FIRST_DAY
