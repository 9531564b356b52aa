"""Item 4, missed webhooks: ShotGrid's sender drops a share of its deliveries at random (and
every one for a window); the periodic poll restores full convergence within two polls.

Expected values are the edits made in the ShotGrid emulator; convergence is read from the
Jira emulator, not from syncd's store.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncd.store import tables as t
from syncd_sandbox.dataset import generate
from syncd_sandbox.stack import Stack, linked_pairs
from tests.reliability.figures import Figures, Record

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

EDITS = 36
DROP_SHARE = 0.2
DROP_ALL = range(24, 32)  # edits whose deliveries are all lost (the tool's webhooks down)


@pytest.fixture
def stack() -> Iterator[Stack]:
    stack = Stack(generate(seed=21, issues=400), workers=1)
    stack.service.engine.sync()
    yield stack
    stack.close()


def _idle(stack: Stack) -> bool:
    with stack.service.store.transaction() as tx:
        busy = tx.conn.execute(
            sa.select(sa.func.count()).select_from(t.jobs)
            .where(t.jobs.c.status.in_(("todo", "doing")), t.jobs.c.kind != "poll")
        ).scalar_one()  # fmt: skip
        outbox = tx.conn.execute(
            sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.status == "pending")
        ).scalar_one()
    return busy == 0 and outbox == 0


def _settle(stack: Stack) -> None:
    deadline = time.monotonic() + 90
    while not _idle(stack):
        assert time.monotonic() < deadline, "the service did not settle"
        time.sleep(0.2)


def test_dropped_deliveries_are_restored_by_polling(
    stack: Stack, figures: Figures, record_property: Record
) -> None:
    rng = random.Random(4)
    box, production = stack.box, stack.production
    sender = box.shotgrid.webhooks
    pairs = [
        (task_id, key)
        for status in ("wtg", "rdy", "ip")
        for key, task_id in linked_pairs(production, sg_status=status)
    ][:EDITS]
    assert len(pairs) == EDITS
    artist = production.people[1].email
    dropped = 0
    for n, (task_id, _) in enumerate(pairs):
        drop = n in DROP_ALL or rng.random() < DROP_SHARE
        dropped += drop
        sender.config.mode = "drop" if drop else "deliver"
        box.shotgrid.edit_as(artist, "Task", task_id, {"sg_status_list": "rev"})
        sender.flush(10)
    sender.config.mode = "deliver"
    _settle(stack)

    def unsynced() -> list[str]:
        return [key for _, key in pairs
                if box.jira.issue(key)["fields"]["status"]["name"] != "In Review"]  # fmt: skip

    after_webhooks = len(unsynced())
    polls = 0
    while unsynced() and polls < 2:  # two poll intervals
        stack.service.engine.sync()
        _settle(stack)
        polls += 1
    assert unsynced() == []
    assert after_webhooks >= 1  # the drops were real: webhooks alone left some behind
    figures.report(
        record_property, 4, edits=EDITS, deliveries_dropped=dropped,
        unsynced_after_webhooks=after_webhooks, polls_to_converge=polls, unsynced_after=0,
    )  # fmt: skip
