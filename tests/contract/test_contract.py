"""The connector contract suite: every connector (and any third-party one) must pass it.

Harnesses are discovered from `tests/contract/harness_*.py`. Each test runs against the
connector's tool: its sandbox over real HTTP on loopback, or a local file for the example
plugin (tests/plugins), which gets every test but those that need a network.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.connector import Capability, Connector, SourceRecord
from syncd.errors import UnsupportedCapability
from syncd.signatures import SignatureError
from tests.contract.harness import ContractHarness, SandboxHarness

pytestmark = pytest.mark.sandbox

HARNESS_MODULES = sorted(
    m.name
    for m in pkgutil.iter_modules([str(Path(__file__).parent)])
    if m.name.startswith("harness_")
)


@pytest.fixture(params=HARNESS_MODULES)
def harness(request: pytest.FixtureRequest) -> Iterator[ContractHarness]:
    module = importlib.import_module(f"tests.contract.{request.param}")
    h: ContractHarness = module.make_harness()
    h.start()
    try:
        yield h
    finally:
        h.stop()


def _pull_all(
    connector: Connector, entity: str, cursor: str | None = None
) -> tuple[list[SourceRecord], str | None]:
    records: list[SourceRecord] = []
    last = cursor
    for batch in connector.pull(entity, cursor, fields=[]):
        records.extend(batch.records)
        if batch.cursor is not None:
            last = batch.cursor
    return records, last


def _ids(h: ContractHarness, records: list[SourceRecord]) -> list[str]:
    # Rows a connector reports as problems (no key, a repeated key) are not records.
    return [h.id_of(r) for r in records if not r.deleted and r.problem is None]


def test_full_pull_returns_every_record_once(harness: ContractHarness) -> None:
    records, cursor = _pull_all(harness.connector(), harness.entity)
    ids = _ids(harness, records)
    assert sorted(ids) == sorted(set(ids)), "a record came twice in one full pull"
    assert set(ids) == harness.expected_ids()
    if cursor is not None:
        assert json.loads(json.dumps(cursor)) == cursor  # opaque but JSON-safe


def test_incremental_pull_after_edits(harness: ContractHarness) -> None:
    connector = harness.connector()
    _, cursor = _pull_all(connector, harness.entity)
    edited = sorted(harness.expected_ids())[:3]
    for external_id in edited:
        harness.edit_as_person(external_id)
    records, _ = _pull_all(connector, harness.entity, cursor)
    ids = set(_ids(harness, records))
    assert set(edited) <= ids
    if Capability.INCREMENTAL in connector.capabilities:
        # An overlap window may re-read a few, but not the whole set.
        assert len(ids) < len(harness.expected_ids())


def test_pull_resumes_from_a_cursor_after_a_crash(harness: ContractHarness) -> None:
    connector = harness.connector()
    pages = connector.pull(harness.entity, None, fields=[])
    first = next(pages)
    del pages  # the process "dies" after storing the first page
    seen = set(_ids(harness, first.records))
    records, _ = _pull_all(connector, harness.entity, first.cursor)
    seen |= set(_ids(harness, records))
    assert seen == harness.expected_ids()


def test_push_then_read_back_and_push_again(harness: ContractHarness) -> None:
    connector = harness.connector()
    if Capability.PUSH not in connector.capabilities:
        pytest.skip(f"{harness.name} does not push")
    target = sorted(harness.expected_ids())[0]
    item, shows_it = harness.push_item(target)
    result = connector.push(harness.entity, [item])
    assert result.written == [target] and not result.rejected
    [fetched] = connector.fetch(harness.entity, [target], fields=[])
    assert shows_it(fetched)
    again = connector.push(harness.entity, [item])  # idempotent: a set, not an increment
    assert again.written == [target]
    [fetched] = connector.fetch(harness.entity, [target], fields=[])
    assert shows_it(fetched)


def test_webhook_accepted_and_forged_one_rejected(harness: ContractHarness) -> None:
    connector = harness.connector()
    if Capability.WEBHOOK not in connector.capabilities:
        pytest.skip(f"{harness.name} receives no webhooks")
    target = sorted(harness.expected_ids())[0]
    headers, body = harness.webhook(target)
    events = connector.parse_webhook(headers, body)
    assert events and all(e.delivery_id for e in events)
    assert any(e.external_id in (target, None) for e in events)
    forged = bytearray(body)
    forged[len(forged) // 2] ^= 0x01
    with pytest.raises(SignatureError):
        connector.parse_webhook(headers, bytes(forged))
    unsigned = {k: v for k, v in headers.items() if "sig" not in k.lower()}
    with pytest.raises(SignatureError):
        connector.parse_webhook(unsigned, body)


def test_full_pull_survives_429_and_500_storms(harness: ContractHarness) -> None:
    if not isinstance(harness, SandboxHarness):
        pytest.skip(f"{harness.name}'s tool is not served: no network faults to survive")
    harness.turn_knobs(latency_ms=5, jitter_ms=5, fault_rate=0.3, faults=["500", "503"], seed=7)
    records, _ = _pull_all(harness.connector(), harness.entity)
    harness.turn_knobs(fault_rate=0.0, rate_limit_per_minute=120)
    again, _ = _pull_all(harness.connector(), harness.entity)
    harness.turn_knobs(rate_limit_per_minute=None, latency_ms=0, jitter_ms=0)
    for pulled in (records, again):
        ids = _ids(harness, pulled)
        assert sorted(ids) == sorted(set(ids)) and set(ids) == harness.expected_ids()


def test_full_pull_costs_the_floor_in_list_calls(harness: ContractHarness) -> None:
    if not isinstance(harness, SandboxHarness):
        pytest.skip(f"{harness.name}'s tool is not served: it has no API calls to count")
    before = sum(harness.calls().values())
    _pull_all(harness.connector(), harness.entity)
    used = sum(harness.calls().values()) - before
    floor = -(-len(harness.expected_ids()) // harness.page_size())
    assert used <= floor + 3, f"{used} calls for a pull whose floor is {floor}"


def test_undeclared_capabilities_raise(harness: ContractHarness) -> None:
    connector = harness.connector()
    if Capability.WEBHOOK not in connector.capabilities:
        with pytest.raises(UnsupportedCapability):
            connector.parse_webhook({}, b"{}")
    if Capability.PUSH not in connector.capabilities:
        with pytest.raises(UnsupportedCapability):
            connector.push(harness.entity, [])
