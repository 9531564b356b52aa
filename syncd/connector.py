"""The connector contract: what a plugin for one tool must do, and nothing more.

Connectors handle transport only (auth, paging, cursors, native payloads). Field mapping is
data (`mappings/`), merging is `reconcile.py`. A connector is found through the
`syncd.connectors` entry-point group, so a third party ships one the same way
(docs/connectors/writing-a-connector.md walks through one).

The contract has two sides, and one optional part:
- `ConnectorClass`, the class itself: its `kind`, its `capabilities`, the paths its tool
  never lets anyone write, its `config_model`, and `from_config`, which the registry calls
  with the validated `[connectors.<name>]` table.
- `Connector`, an instance: what the engine, worker, API and CLI call.
- `SpreadsheetApi`, what an instance declaring `Capability.SPREADSHEETS` adds: what the
  rollups call to rewrite the consolidated spreadsheet.

A record the connector can read but not use (a sheet row without a key, or with a key
another row has) still comes out of `pull`/`fetch`/`fetch_delivered`, as a `SourceRecord`
whose `problem` says why; `row` says where it is, when the tool's records are rows. The
engine reports it as a source error at that place ("Invoices row 17") and syncs nothing
from it; the other records go on. A problem record that names its key (`external_id`)
tells the engine the key is still there: a key two rows hold comes out as one problem per
row, and its record keeps its last agreed values instead of being deleted.

A pull from no cursor, or any pull of a connector without `INCREMENTAL`, is a complete
read: after its last page, the engine marks gone the entity's records it did not yield (a
tool that cannot report deletions, like a sheet, needs nothing more).

Rules the contract suite enforces:
1. `pull` yields one `Batch` per page; the engine stores a batch's records and its cursor in
   one transaction, so a crash resumes from the last full page and never skips one.
2. A cursor is an opaque, JSON-safe string. Coarse clocks re-read an overlap window; the
   engine ignores records whose content it already has.
3. `push` sets values (never increments), so pushing the same item twice changes nothing.
4. Calling something the connector does not declare in `capabilities` raises
   `UnsupportedCapability`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from syncd.secrets import secret_texts


class Capability(StrEnum):
    """What a connector can do."""

    PULL = "pull"
    PUSH = "push"
    INCREMENTAL = "incremental"  # honours the cursor; otherwise every pull is a full snapshot
    FETCH = "fetch"  # can re-read given records by id (webhook-driven refresh)
    DELETES = "deletes"  # pull and fetch report deleted records
    WEBHOOK = "webhook"  # can verify and parse the tool's webhooks
    PEOPLE = "people"  # can list the tool's users with their emails
    # Its deliveries carry the changed values: a record they fully account for is taken from
    # them instead of being re-read (`apply_deliveries`).
    WEBHOOK_VALUES = "webhook_values"
    # Its deliveries name the part of a snapshot that changed (a sheet's edited rows), so a
    # refresh of the whole entity can read just that part (`fetch_delivered`).
    FETCH_DELIVERED = "fetch_delivered"
    # It can rewrite whole spreadsheets (tabs, charts, formats), so the rollups can publish
    # the consolidated sheet through it (`SpreadsheetApi`).
    SPREADSHEETS = "spreadsheets"


class SourceRecord(BaseModel):
    """One record as the connector sees it, in the tool's own shape."""

    model_config = ConfigDict(frozen=True)

    entity: str
    data: dict[str, Any]
    deleted: bool = False
    external_id: str | None = Field(
        None, description="set on deleted records, whose data may be empty"
    )
    row: int | None = Field(
        None,
        ge=1,
        description="its row number (1-based) when the tool's records are rows; never part "
        "of `data`, so a row that moves has the same content",
    )
    problem: str | None = Field(
        None,
        description="why the record cannot be used (no key, a key an earlier record has): "
        "the engine reports it at its place and syncs nothing from it",
    )


class Batch(BaseModel):
    """One page of a pull and the cursor after it (None: the source has no cursor)."""

    model_config = ConfigDict(frozen=True)

    records: list[SourceRecord]
    cursor: str | None


class PushItem(BaseModel):
    """Values to write to one source record, as a nested native payload."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    payload: dict[str, Any]


class PushStep(BaseModel):
    """One of several calls a write took in the tool, e.g. a hop of a multi-hop status move."""

    model_config = ConfigDict(frozen=True)

    field: str  # the tool's field, e.g. "status"
    old: str
    new: str
    via: str  # what was taken, e.g. the workflow transition's name


class PushResult(BaseModel):
    """What a push did, per source record: written, or rejected with the tool's reason;
    `steps`, per source record, the intermediate moves a write took (audited one by one)."""

    written: list[str] = []
    rejected: dict[str, str] = {}
    steps: dict[str, list[PushStep]] = {}


class Identity(BaseModel):
    """A user of the tool: its own id, and the email that makes it a person in syncd."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    email: str | None
    display_name: str | None = None


class WebhookEvent(BaseModel):
    """What one verified webhook delivery says changed."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    entity: str
    external_id: str | None = Field(
        None, description="None: the event does not name a record; re-read the entity"
    )
    deleted: bool = False
    author: str | None = None  # the tool's user id of whoever made the change


class ConnectorConfig(BaseModel):
    """Base of each connector's config table; `kind` selects the plugin."""

    model_config = ConfigDict(extra="forbid")

    kind: str

    def secret_values(self) -> list[str]:
        """Every secret this config holds, for redaction: each `SecretStr` field (and the
        parts of a key it holds). Override to add secrets kept elsewhere, e.g. a key file."""
        return list(secret_texts(self))


@runtime_checkable
class Connector(Protocol):
    """A plugin for one tool: an instance, configured and ready to call."""

    kind: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # Source paths that can never be written, per entity (ids, server clocks).
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]]

    @property
    def name(self) -> str:
        """The configured name of this instance, e.g. "jira"."""
        ...

    @property
    def integration_user(self) -> str | None:
        """The tool's user id that syncd writes as (its own edits are echoes)."""
        ...

    @property
    def records_per_write(self) -> int:
        """How many records one write call carries (1: a call per record)."""
        ...

    @property
    def write_calls_per_second(self) -> float | None:
        """The write calls a second this instance keeps to (None: no quota)."""
        ...

    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Records changed since `cursor` (all when None), a page per batch."""
        ...

    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """The current state of the given records; missing ones come back `deleted`."""
        ...

    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Write values to existing source records."""
        ...

    def people(self) -> Iterator[Identity]:
        """The tool's users."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a delivery's signature and say what changed; raises on a bad one."""
        ...

    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """What the given records hold now, from verified deliveries that concern them.

        `stored`: each record's data as syncd last read it (by external id). Pure: no call
        to the tool. A record is left out of the answer whenever the deliveries do not say
        its state for sure (not mentioned, created, deleted, an event older than the stored
        data, a value whose shape is not known): the engine then re-reads it.
        """
        ...

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """The records that verified deliveries say changed, read in one call; None when
        the deliveries cannot narrow the read down (the engine then reads the entity)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class SpreadsheetApi(Protocol):
    """What a connector declaring `Capability.SPREADSHEETS` offers the rollups' writer."""

    @property
    def spreadsheet_id(self) -> str:
        """The spreadsheet it is configured for (where the rollups go unless told otherwise)."""
        ...

    def spreadsheet_metadata(self, spreadsheet_id: str | None = None) -> dict[str, Any]:
        """The spreadsheet's properties and tabs, without cell data."""
        ...

    def batch_update(
        self, requests: Sequence[Mapping[str, Any]], spreadsheet_id: str | None = None
    ) -> dict[str, Any]:
        """`spreadsheets:batchUpdate` with these requests, all or none."""
        ...


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class ConnectorClass(Protocol[ConfigT]):
    """The class side of a plugin: what the registry reads and calls before any instance.

    Generic in the plugin's config model, so `from_config` takes exactly the config that
    `config_model` validated.
    """

    @property
    def kind(self) -> str:
        """The plugin's name in config tables (`kind = "..."`) and entry points."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What its instances can do; anything else raises `UnsupportedCapability`."""
        ...

    @property
    def read_only_paths(self) -> Mapping[str, frozenset[str]]:
        """Source paths that can never be written, per entity (ids, server clocks)."""
        ...

    @property
    def config_model(self) -> type[ConfigT]:
        """The model of its `[connectors.<name>]` table."""
        ...

    def from_config(self, name: str, config: ConfigT, **deps: object) -> Connector:
        """An instance named `name` (the table's name); `deps` inject test doubles."""
        ...
