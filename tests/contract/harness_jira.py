"""Contract harness for the Jira connector: the Jira sandbox on loopback, seeded small."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.jira import JiraConfig, JiraConnector
from syncd.connector import PushItem, SourceRecord
from syncd_sandbox.dataset import MIN_ISSUES, generate
from syncd_sandbox.jira import DEFAULT_API_TOKEN, DEFAULT_EMAIL, JiraSandbox
from syncd_sandbox.jira.catalog import CustomFieldIds
from syncd_sandbox.knobs import Knobs
from syncd_sandbox.production import Production
from syncd_sandbox.serving import ServedApp
from tests.contract.harness import ContractHarness

PAGE_SIZE = 10  # the sandbox's page cap: ~49 issues make 5 pages
WEBHOOK_SECRET = "contract-jira-webhook-secret"


def fast_sleep(seconds: float) -> None:
    """Retries wait a little, not what backoff or Retry-After say (the suite runs often)."""
    time.sleep(min(seconds, 0.02))


class Receiver:
    """A loopback endpoint that keeps the webhook deliveries the sandbox sends it."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self._arrived = threading.Condition()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._arrived:
                self.deliveries.append((dict(request.headers), body))
                self._arrived.notify_all()
            return Response(status_code=200)

        self.server = ServedApp.start(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        """Where the sandbox should deliver."""
        return f"{self.server.url}/hook"

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()


class JiraHarness:
    """The Jira sandbox seeded with a small production, and a connector against it."""

    name = "jira"
    entity = "issue"

    def __init__(
        self,
        *,
        seed: int = 11,
        issues: int = MIN_ISSUES,
        page_size: int = PAGE_SIZE,
        time_zone: str = "UTC",
        production: Production | None = None,
        field_ids: CustomFieldIds | None = None,
    ) -> None:
        self._page_size = page_size
        self.production: Production = production or generate(seed=seed, issues=issues)
        self.sandbox = JiraSandbox(
            knobs=Knobs(page_size_cap=page_size), time_zone=time_zone, field_ids=field_ids
        )
        self._server: ServedApp | None = None
        self._control: httpx.Client | None = None
        self._connector: JiraConnector | None = None
        self._connectors: list[JiraConnector] = []  # every one made here, closed by stop()
        self._receiver: Receiver | None = None
        self._edits = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.sandbox.seed(self.production)
        self._server = ServedApp.start(self.sandbox.create_app())
        self._control = httpx.Client(base_url=self._server.url, timeout=10)

    def stop(self) -> None:
        for connector in self._connectors:
            connector.close()
        if self._control is not None:
            self._control.close()
        if self._server is not None:
            self._server.stop()
        if self._receiver is not None:
            self._receiver.stop()
        self.sandbox.close()

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        assert self._server is not None, "start() first"
        return self._server.url

    @property
    def control(self) -> httpx.Client:
        """An httpx client on the sandbox (for its /_sandbox control routes)."""
        assert self._control is not None, "start() first"
        return self._control

    def config(self, **overrides: Any) -> JiraConfig:
        """A connector config for this sandbox."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "email": DEFAULT_EMAIL,
            "api_token": DEFAULT_API_TOKEN,
            "projects": [self.production.jira_project_key],
            "webhook_secret": WEBHOOK_SECRET,
            "allow_private_addresses": True,  # the emulator listens on loopback
            **overrides,
        }
        return JiraConfig.model_validate(values)

    def connector(self) -> JiraConnector:
        if self._connector is None:
            self._connector = self.new_connector()
        return self._connector

    def new_connector(self, **deps: Any) -> JiraConnector:
        """Another connector on this sandbox (fresh caches); `deps` may set http, clock..."""
        overrides = deps.pop("config", {})
        connector = JiraConnector.from_config(
            "jira", self.config(**overrides), **{"sleep": fast_sleep, **deps}
        )
        self._connectors.append(connector)
        return connector

    # -- the sandbox's side ---------------------------------------------------------------
    def expected_ids(self) -> set[str]:
        store = self.sandbox.site.store
        with store.lock:
            return {store.key(record) for record in store.records()}

    def id_of(self, record: SourceRecord) -> str:
        return str(record.data["key"]) if record.data else str(record.external_id)

    def person(self) -> str:
        """The email of a person who edits in the Jira UI."""
        return self.production.people[1].email

    def edit_as_person(self, external_id: str, **fields: Any) -> None:
        self._edits += 1
        reply = self.control.post(
            f"/_sandbox/issues/{external_id}/edit",
            json={
                "as": self.person(),
                "fields": fields or {"summary": f"Edited by a person #{self._edits}"},
            },
        )
        reply.raise_for_status()

    def issue(self, key: str) -> dict[str, Any]:
        """An issue as the sandbox holds it (every field, custom fields by id)."""
        reply = self.control.get(f"/_sandbox/issues/{key}")
        reply.raise_for_status()
        issue: dict[str, Any] = reply.json()
        return issue

    def push_item(self, external_id: str) -> tuple[PushItem, Callable[[SourceRecord], bool]]:
        current = self.issue(external_id)["fields"]["status"]["name"]
        # A status the workflow reaches from here (Done only reopens to To Do).
        target = "To Do" if current in ("Done", "In Review") else "In Review"
        payload = {
            "fields": {
                "summary": f"Pushed title for {external_id}",
                "labels": ["pushed", "syncd"],
                "Pipeline Status": "Pending Review",
                "status": {"name": target},
            }
        }

        def shows_it(record: SourceRecord) -> bool:
            fields = record.data.get("fields", {})
            return (
                fields.get("summary") == payload["fields"]["summary"]
                and sorted(fields.get("labels") or []) == ["pushed", "syncd"]
                and fields.get("Pipeline Status") == "Pending Review"
                and fields.get("status", {}).get("name") == target
            )

        return PushItem(external_id=external_id, payload=payload), shows_it

    def webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """Point the sandbox's webhooks at a receiver, edit as a person, keep the delivery."""
        if self._receiver is None:
            self._receiver = Receiver()
        self.control.put(
            "/_sandbox/webhook", json={"url": self._receiver.url, "secret": WEBHOOK_SECRET}
        ).raise_for_status()
        before = len(self._receiver.deliveries)
        self.edit_as_person(external_id)
        self.control.post("/_sandbox/webhook/flush").raise_for_status()
        assert len(self._receiver.deliveries) > before, "the sandbox sent no webhook"
        return self._receiver.deliveries[-1]

    def turn_knobs(self, **knobs: Any) -> None:
        self.control.patch("/_sandbox/knobs", json=knobs).raise_for_status()

    def calls(self) -> dict[str, int]:
        reply = self.control.get("/_sandbox/calls")
        reply.raise_for_status()
        calls: dict[str, int] = reply.json()
        return calls

    def page_size(self) -> int:
        return self._page_size


def make_harness() -> ContractHarness:
    """The Jira harness the contract suite drives."""
    return JiraHarness()
