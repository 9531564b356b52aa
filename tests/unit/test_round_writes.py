"""How many records a lane round writes to a tool: about a second of its write quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.memory import MemoryConnector
from syncd.jobs.store_queue import StoreJobQueue
from syncd.worker import WRITE_CALLS_PER_ROUND, Worker
from tests.factories import World, make_world, sqlite_copy


class OneByOne(MemoryConnector):
    """A tool that takes one record per write call, at a given quota (Jira's shape)."""

    quota: float | None = None

    @property
    def records_per_write(self) -> int:
        return 1

    @property
    def write_calls_per_second(self) -> float | None:
        return self.quota


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(sqlite_copy(tmp_path), migrate=False)


def _round_writes(world: World, tool: MemoryConnector) -> int:
    world.engine.connectors["b"] = tool
    return Worker(world.engine, StoreJobQueue(world.store))._round_writes("b")


@pytest.mark.parametrize(
    ("per_second", "expected"),
    [(10.0, 10), (50.0, 50), (0.2, 1), (None, WRITE_CALLS_PER_ROUND)],
)
def test_a_one_by_one_tool_gets_a_second_of_its_quota(
    world: World, per_second: float | None, expected: int
) -> None:
    tool = OneByOne(name="b")
    tool.quota = per_second
    assert _round_writes(world, tool) == expected


def test_a_batching_tool_gets_one_calls_worth(world: World) -> None:
    assert _round_writes(world, MemoryConnector(name="b")) == 500
