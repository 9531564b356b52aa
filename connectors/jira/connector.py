"""`JiraConnector`: Jira Cloud issues in and out over REST v3, with the `jira` library.

Issues are presented as the REST API returns them (`id`, `key`, `fields`) with custom fields
under their names (`fields."ShotGrid Task"`), which is what `mappings/jira.toml` addresses.

- Pull: enhanced search (`search/jql`), `project in (...) [AND updated >= "<cursor minus
  the overlap>"] ORDER BY updated ASC, key ASC`, only the mapped fields, the largest page,
  following `nextPageToken`; one batch per page, its cursor the latest `updated` seen.
  Deleted issues are not in search results: fetch and webhooks report deletions.
- Fetch: `key in (...)` a page at a time; one missing key fails Jira's whole query (400), so
  the keys it names are set aside as deleted and the rest asked again.
- Push: see `push.py`. People: `users/search`. Webhooks: see `webhooks.py`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from syncd.connector import (
    Batch,
    Capability,
    Identity,
    PushItem,
    PushResult,
    PushStep,
    SourceRecord,
    WebhookEvent,
)
from syncd.egress import GuardedTransport
from syncd.errors import ConnectorError, PermanentError, UnsupportedCapability
from syncd.http import EndpointRateLimits

from . import jql, webhooks
from .client import JiraClient, JiraRefusal
from .config import JiraConfig
from .fields import FieldCatalog, field_names
from .push import Pusher
from .transitions import Workflows, where_of

log = logging.getLogger(__name__)

ENTITY = "issue"
# What the shipped mapping reads (and a few more worth having), when a pull names no fields.
DEFAULT_FIELDS = (
    "summary",
    "status",
    "assignee",
    "duedate",
    "timeoriginalestimate",
    "timespent",
    "labels",
    "created",
    "updated",
    "ShotGrid Task",
    "Department",
    "Milestone",
    "Pipeline Status",
    "Sprint",
    "Story point estimate",
)
# Asked for beside the mapped fields: the cursor, and the workflow an issue's status is in.
CURSOR_FIELD = "updated"
WORKFLOW_FIELD = "issuetype"
MYSELF_TTL_SECONDS = 3600.0  # the account's time zone, re-read hourly
FIELDS_RETRY_SECONDS = 600.0  # re-read the field list for unknown names at most this often
# When the account's time zone is unknown here, read this much more (the widest UTC offsets).
UNKNOWN_ZONE_MARGIN = timedelta(hours=26)
_QUOTED_KEY = re.compile(r"'([A-Za-z][A-Za-z0-9_]*-\d+)'")

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class _Request:
    """The field ids to ask Jira for, and the custom field ids to present by id."""

    ids: list[str]
    keep_ids: frozenset[str]


class JiraConnector:
    """A connector for one Jira Cloud site's projects, acting as one account."""

    kind: ClassVar[str] = "jira"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PULL,
            Capability.PUSH,
            Capability.INCREMENTAL,
            Capability.FETCH,
            Capability.DELETES,
            Capability.WEBHOOK,
            Capability.WEBHOOK_VALUES,
            Capability.PEOPLE,
        }
    )
    # Status is written through transitions (push handles `fields.status.name`), so it is
    # not listed: the shipped mapping pushes it.
    read_only_paths: ClassVar[Mapping[str, frozenset[str]]] = {
        ENTITY: frozenset(
            {
                "id",
                "key",
                "fields.created",
                "fields.updated",
                "fields.creator",
                "fields.resolutiondate",
                "fields.statuscategorychangedate",
                "fields.timeoriginalestimate",
                "fields.timespent",
                "fields.timeestimate",
                "fields.aggregatetimeoriginalestimate",
                "fields.aggregatetimespent",
                "fields.aggregatetimeestimate",
                "fields.progress",
                "fields.aggregateprogress",
                "fields.workratio",
                "fields.votes",
                "fields.watches",
                "fields.lastViewed",
            }
        )
    }
    config_model: ClassVar[type[JiraConfig]] = JiraConfig

    def __init__(
        self,
        name: str,
        config: JiraConfig,
        *,
        http: httpx.Client | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._name, self.config = name, config
        self._now = now  # the wall clock webhook timestamps are checked against
        self._own_http = http is None
        if http is None:
            guard = None if config.allow_private_addresses else GuardedTransport(name)
            http = httpx.Client(transport=guard, timeout=config.timeout_seconds)
        self._http = http
        self._clock = clock
        limits = EndpointRateLimits(config.rate_limit_per_minute, clock=clock, sleep=sleep)
        self.client = JiraClient(name, config, http=self._http, sleep=sleep, limits=limits)
        self.workflows = Workflows(clock)
        self._pusher = Pusher(self.client, self.workflows)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._catalog: FieldCatalog | None = None
        self._catalog_at = 0.0
        self._myself: dict[str, Any] | None = None
        self._myself_at = 0.0
        self._warned: set[str] = set()

    @classmethod
    def from_config(cls, name: str, config: JiraConfig, **deps: Any) -> JiraConnector:
        """Build from a `[connectors.<name>]` table; `deps` may give http, clock, sleep, now."""
        return cls(name, config, **deps)

    @property
    def name(self) -> str:
        """The configured name of this instance."""
        return self._name

    # -- the account and the site's fields ------------------------------------------------
    def _me(self, *, retried: bool = True) -> dict[str, Any]:
        """`myself`, read once an hour (the time zone JQL dates are read in)."""
        with self._lock:
            fresh = (
                self._myself is not None and self._clock() - self._myself_at < MYSELF_TTL_SECONDS
            )
            if fresh and self._myself is not None:
                return self._myself
        me = self.client.myself(retried=retried)
        with self._lock:
            self._myself, self._myself_at = me, self._clock()
        return me

    @property
    def records_per_write(self) -> int:
        """One issue per edit call (the bulk edit API sets one value on many issues)."""
        return 1

    @property
    def write_calls_per_second(self) -> float | None:
        """The configured quota of each endpoint, the issue-edit one among them."""
        return self.config.rate_limit_per_minute / 60.0

    @property
    def integration_user(self) -> str | None:
        """The accountId syncd works as (None while Jira cannot be asked).

        Read when webhooks arrive: one attempt, no retries, so a delivery is never held up.
        """
        with self._lock:
            known = self._myself
        try:
            account = (known or self._me(retried=False)).get("accountId")
        except ConnectorError as exc:
            log.warning("[%s] cannot tell which account syncd works as: %s", self.name, exc)
            return None
        return str(account) if account else None

    def _zone(self) -> tuple[tzinfo, timedelta]:
        """The account's time zone, and how much more to read when it is not known here."""
        name = self._me().get("timeZone")
        try:
            return ZoneInfo(str(name)), timedelta(0)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("[%s] unknown Jira time zone %r: reading 26 h more", self.name, name)
            return ZoneInfo("UTC"), UNKNOWN_ZONE_MARGIN

    def fields_catalog(self, names: Sequence[str] = ()) -> FieldCatalog:
        """The site's fields, read once (and again for names it lacks, now and then)."""
        with self._lock:
            catalog, loaded_at = self._catalog, self._catalog_at
        stale = catalog is not None and any(catalog.resolve(n) is None for n in names)
        if catalog is None or (stale and self._clock() - loaded_at > FIELDS_RETRY_SECONDS):
            catalog = FieldCatalog(self.client.fields())
            with self._lock:
                self._catalog, self._catalog_at = catalog, self._clock()
        return catalog

    def _request(self, fields: Sequence[tuple[str, ...]]) -> tuple[FieldCatalog, _Request]:
        """Which fields to ask for: the mapped ones (or the defaults), the cursor, the workflow."""
        mapped = field_names(fields)
        catalog = self.fields_catalog(mapped)
        return catalog, self._plan(catalog, mapped)

    def _plan(self, catalog: FieldCatalog, mapped: list[str]) -> _Request:
        names = mapped or list(DEFAULT_FIELDS)
        ids, unknown = catalog.request(names)
        for name in unknown:
            if mapped and name not in self._warned:
                self._warned.add(name)
                log.warning(
                    "[%s] the mapping reads fields.%s: no such field in Jira", self.name, name
                )
        extra = [CURSOR_FIELD] + ([WORKFLOW_FIELD] if "status" in ids else [])
        ids += [f for f in extra if f not in ids]
        keep = frozenset(n for n in mapped if catalog.resolve(n) == n and catalog.by_id[n].custom)
        return _Request(ids, keep)

    def _record(
        self, issue: Mapping[str, Any], catalog: FieldCatalog, request: _Request
    ) -> SourceRecord:
        key = str(issue["key"])
        fields = issue.get("fields") or {}
        self.workflows.saw(key, where_of(key, fields))
        data = {
            "id": str(issue.get("id")),
            "key": key,
            "fields": catalog.present(fields, request.keep_ids),
        }
        return SourceRecord(entity=ENTITY, data=data, external_id=key)

    def _check(self, entity: str) -> None:
        if entity != ENTITY:
            raise PermanentError(self.name, f"Jira has no entity {entity!r} here (only {ENTITY!r})")

    # -- pull -----------------------------------------------------------------------------
    def pull(
        self, entity: str, cursor: str | None, *, fields: Sequence[tuple[str, ...]]
    ) -> Iterator[Batch]:
        """Issues updated since the cursor (minus the overlap), a page per batch."""
        self._check(entity)
        try:
            start = jql.parse_cursor(cursor)
        except ValueError:
            log.warning("[%s] cursor %r is not one of ours: pulling everything", self.name, cursor)
            start = None
        since = jql.since_for(start, timedelta(minutes=self.config.overlap_minutes))
        zone: tzinfo | None = None
        if since is not None:
            zone, margin = self._zone()
            since -= margin
        query = jql.pull_jql(self.config.projects, since, zone)
        catalog, request = self._request(fields)
        high = start
        for issues in self._pages(query, request):
            records = []
            for issue in issues:
                records.append(self._record(issue, catalog, request))
                updated = (issue.get("fields") or {}).get(CURSOR_FIELD)
                if updated:
                    moment = jql.parse_timestamp(str(updated))
                    high = moment if high is None or moment > high else high
            yield Batch(records=records, cursor=jql.format_cursor(high) if high else None)

    def _pages(self, query: str, request: _Request) -> Iterator[list[dict[str, Any]]]:
        """The issues of each page of a search, following `nextPageToken`."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self.client.search(query, request.ids, self.config.page_size, token)
            yield [i for i in page.get("issues") or [] if isinstance(i, dict) and i.get("key")]
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return
            if token in seen:
                raise PermanentError(self.name, "Jira sent the same page token twice (a loop)")
            seen.add(token)

    # -- fetch ----------------------------------------------------------------------------
    def fetch(
        self, entity: str, external_ids: Sequence[str], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord]:
        """The given issues now; deleted (or never existing) ones come back deleted."""
        self._check(entity)
        catalog, request = self._request(fields)
        wanted = list(dict.fromkeys(external_ids))
        keys = [k for k in wanted if jql.is_issue_key(k)]
        found: dict[str, SourceRecord] = {}
        size = self.config.page_size
        for start in range(0, len(keys), size):
            found.update(self._fetch_chunk(keys[start : start + size], catalog, request))
        records = [
            found.get(k) or SourceRecord(entity=ENTITY, data={}, deleted=True, external_id=k)
            for k in wanted
        ]
        # An issue moved to another project answers to its old key under a new one.
        return records + [r for k, r in found.items() if k not in wanted]

    def _fetch_chunk(
        self, keys: list[str], catalog: FieldCatalog, request: _Request
    ) -> dict[str, SourceRecord]:
        pending = list(keys)
        while pending:
            try:
                issues = [i for page in self._pages(jql.keys_jql(pending), request) for i in page]
            except JiraRefusal as refusal:
                if refusal.status != 400:
                    raise
                # One missing key fails the whole query; Jira names it: set it aside, ask again.
                said = " ".join([*refusal.messages, *refusal.errors.values()])
                named = {m.upper() for m in _QUOTED_KEY.findall(said)}
                missing = [k for k in pending if k.upper() in named]
                if not missing:
                    return self._fetch_one_by_one(pending, catalog, request)
                pending = [k for k in pending if k not in missing]
                continue
            return {str(i["key"]): self._record(i, catalog, request) for i in issues}
        return {}

    def _fetch_one_by_one(
        self, keys: list[str], catalog: FieldCatalog, request: _Request
    ) -> dict[str, SourceRecord]:
        found: dict[str, SourceRecord] = {}
        for key in keys:
            try:
                issue = self.client.issue(key, request.ids)
            except JiraRefusal as refusal:
                if refusal.status == 404:
                    continue
                raise
            found[key] = self._record(issue, catalog, request)
        return found

    # -- push, people, webhooks ---------------------------------------------------------
    def push(self, entity: str, items: Sequence[PushItem]) -> PushResult:
        """Write each item's fields (one edit) and status (one transition); refusals per issue."""
        self._check(entity)
        result = PushResult()
        if not items:
            return result
        names = [n for item in items for n in (item.payload.get("fields") or {}) if n != "status"]
        catalog = self.fields_catalog(names)
        # Jira edits one issue per call: a few issues at a time (each issue's own writes in
        # order), so a batch takes a fraction of its calls' latency. The endpoint's rate
        # limiter still paces them.
        by_issue: dict[str, list[PushItem]] = {}
        for item in items:
            by_issue.setdefault(item.external_id, []).append(item)
        groups = list(by_issue.values())
        if len(groups) == 1 or self.config.write_concurrency == 1:
            outcomes = [self._push_issue(group, catalog) for group in groups]
        else:
            outcomes = list(self._writers().map(lambda g: self._push_issue(g, catalog), groups))
        for group_outcomes in outcomes:
            for external_id, reason, steps in group_outcomes:
                if steps:
                    result.steps.setdefault(external_id, []).extend(steps)
                if reason is None:
                    result.written.append(external_id)
                else:
                    log.info("[%s] write to %s refused: %s", self.name, external_id, reason)
                    result.rejected[external_id] = reason
        return result

    def _push_issue(
        self, items: Sequence[PushItem], catalog: FieldCatalog
    ) -> list[tuple[str, str | None, list[PushStep]]]:
        outcomes: list[tuple[str, str | None, list[PushStep]]] = []
        for item in items:
            steps: list[PushStep] = []
            outcomes.append((item.external_id, self._pusher.push(item, catalog, steps), steps))
        return outcomes

    def _writers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.config.write_concurrency,
                    thread_name_prefix=f"{self.name}-write",
                )
            return self._pool

    def people(self) -> Iterator[Identity]:
        """Every user of the site, with the email when the person lets Jira show it."""
        for user in self.client.users():
            account = user.get("accountId")
            if not account:
                continue
            yield Identity(
                user_id=str(account),
                email=user.get("emailAddress") or None,
                display_name=user.get("displayName") or None,
            )

    def apply_deliveries(
        self,
        entity: str,
        stored: Mapping[str, Mapping[str, Any]],
        deliveries: Sequence[bytes],
        *,
        fields: Sequence[tuple[str, ...]],
    ) -> dict[str, dict[str, Any]]:
        """Issues whose delivered snapshot is newer than the stored data, read from it."""
        self._check(entity)
        with self._lock:
            catalog = self._catalog
        if catalog is None:
            return {}  # the site's fields are not known yet: a read learns them
        request = self._plan(catalog, field_names(fields))
        if any(catalog.by_id[f].rich for f in request.ids if f in catalog.by_id):
            return {}  # a webhook writes rich text as v2 wiki markup, a v3 read as a document
        out: dict[str, dict[str, Any]] = {}
        for key, issue in webhooks.latest_snapshots(deliveries, stored, request.ids).items():
            before = webhooks.issue_updated(stored[key].get("fields"))
            after = webhooks.issue_updated(issue["fields"])
            if before is None or after is None or after <= before:
                continue  # not certainly newer than what syncd holds: re-read
            wanted = {f: issue["fields"][f] for f in request.ids}
            out[key] = self._record({**issue, "fields": wanted}, catalog, request).data
        return out

    def fetch_delivered(
        self, entity: str, deliveries: Sequence[bytes], *, fields: Sequence[tuple[str, ...]]
    ) -> list[SourceRecord] | None:
        """Issues are re-read by key (`fetch`), or taken from deliveries."""
        del entity, deliveries, fields
        raise UnsupportedCapability(f"{self.name}: issues are fetched by key")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a delivery's signature, then say which issue changed (see `webhooks.py`)."""
        secret = self.config.webhook_secret
        webhooks.verify(headers, body, secret.get_secret_value() if secret else None)
        return webhooks.parse(body, projects=self.config.projects, now=self._now())

    def close(self) -> None:
        """Release the library's session and the httpx client (when the connector made it)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self.client.close()
        if self._own_http:
            self._http.close()
