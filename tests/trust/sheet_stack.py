"""The stack the sheet scenarios (deletions, repeated keys) run on: synced, sheet written."""

from __future__ import annotations

from collections.abc import Iterator

from syncd.store.links import LinkRow
from syncd_sandbox.dataset import generate
from syncd_sandbox.stack import Stack


def synced_stack(seed: int) -> Iterator[Stack]:
    """A 120-issue production after its first sync, the consolidated sheet written once."""
    stack = Stack(
        generate(seed=seed, issues=120),
        workers=1,
        settings={"rollup": {"flush_interval_seconds": 1}},
    )
    report = stack.service.engine.sync()
    assert not report.errors, report.errors
    assert stack.service.rollups is not None
    stack.service.rollups.run(force=True)
    yield stack
    stack.close()


def link(stack: Stack, connector: str, entity: str, external_id: str) -> LinkRow:
    """The stored link of one source record."""
    with stack.service.store.transaction() as tx:
        found = tx.links.find([(connector, entity, external_id)])
    return found[(connector, entity, external_id)]
