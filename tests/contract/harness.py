"""What a connector's contract harness provides. One module per connector:
`tests/contract/harness_<tool>.py` with `make_harness() -> ContractHarness`.

The harness owns its tool (a sandbox served on loopback, or a local file; seeded small) and
knows how to make a person's edit there, what a pushed value looks like when read back, and
how the tool signs its webhooks. The suite in `test_contract.py` drives every harness the
same way; a harness whose tool is a served sandbox (`SandboxHarness`) also gets the tests
that inject faults and count API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from syncd.connector import Connector, PushItem, SourceRecord


class ContractHarness(Protocol):
    """Everything the contract suite needs from one connector and its sandbox."""

    name: str  # e.g. "jira"
    entity: str  # the entity the suite pulls and pushes, e.g. "issue"

    def start(self) -> None:
        """Serve and seed the tool (small: a few pages' worth of records)."""

    def stop(self) -> None:
        """Stop the tool and close the connector."""

    def connector(self) -> Connector:
        """A connector configured against the running sandbox (the same one on each call)."""

    def expected_ids(self) -> set[str]:
        """The ids of every record of `entity` the sandbox holds now."""

    def id_of(self, record: SourceRecord) -> str:
        """The external id of a pulled record."""

    def edit_as_person(self, external_id: str) -> None:
        """Change a record in the sandbox as a person would (through the UI control route)."""

    def push_item(self, external_id: str) -> tuple[PushItem, Callable[[SourceRecord], bool]]:
        """A change to push, and a check that a fetched record shows it."""

    def webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """A correctly signed webhook delivery naming the record, as the tool sends it (called
        only when the connector declares `Capability.WEBHOOK`)."""


@runtime_checkable
class SandboxHarness(ContractHarness, Protocol):
    """A harness whose tool is a sandbox served over HTTP: faults and call counts."""

    def turn_knobs(self, **knobs: Any) -> None:
        """PATCH the sandbox's knobs (latency_ms, fault_rate, faults, rate_limit_per_minute...)."""

    def calls(self) -> dict[str, int]:
        """API calls the sandbox counted, per endpoint."""

    def page_size(self) -> int:
        """The largest page the tool serves for `entity` (the floor for a full pull)."""
