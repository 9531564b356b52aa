"""Contract harness for the ShotGrid connector: the ShotGrid sandbox on loopback, seeded small."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from syncd.connector import PushItem, SourceRecord
from syncd_sandbox.dataset import MIN_ISSUES, generate
from syncd_sandbox.knobs import Knobs
from syncd_sandbox.production import Production
from syncd_sandbox.serving import ServedApp
from syncd_sandbox.shotgrid import ShotGridSandbox
from tests.contract.harness import ContractHarness

PAGE_SIZE = 10  # the sandbox's page cap: ~43 tasks make 5 pages
SCRIPT_NAME, SCRIPT_KEY = "syncd", "contract-sg-key"
WEBHOOK_SECRET = "contract-sg-webhook-secret"


def fast_sleep(seconds: float) -> None:
    """Retries wait a little, not what backoff or Retry-After say (the suite runs often)."""
    time.sleep(min(seconds, 0.02))


class Receiver:
    """A loopback endpoint that keeps the webhook deliveries the sandbox sends it."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

        async def hook(request: Request) -> Response:
            self.deliveries.append((dict(request.headers), await request.body()))
            return Response(status_code=200)

        self.server = ServedApp.start(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        """Where the sandbox should deliver."""
        return f"{self.server.url}/hook"

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()


class ShotGridHarness:
    """The ShotGrid sandbox seeded with a small production, and a connector against it."""

    name = "shotgrid"
    entity = "Task"

    def __init__(
        self,
        *,
        seed: int = 11,
        issues: int = MIN_ISSUES,
        page_size: int = PAGE_SIZE,
        **sandbox_options: Any,
    ) -> None:
        self._page_size = page_size
        self.production: Production = generate(seed=seed, issues=issues)
        self.sandbox = ShotGridSandbox(
            knobs=Knobs(page_size_cap=page_size),
            script_name=SCRIPT_NAME,
            script_key=SCRIPT_KEY,
            **sandbox_options,
        )
        self._server: ServedApp | None = None
        self._control: httpx.Client | None = None
        self._connector: ShotGridConnector | None = None
        self._receiver: Receiver | None = None
        self._edits = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self.sandbox.seed(self.production)
        self._server = ServedApp.start(self.sandbox.create_app())
        self._control = httpx.Client(base_url=self._server.url, timeout=10)

    def stop(self) -> None:
        if self._connector is not None:
            self._connector.close()
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

    def config(self, **overrides: Any) -> ShotGridConfig:
        """A connector config for this sandbox."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "script_name": SCRIPT_NAME,
            "script_key": SCRIPT_KEY,
            "project_id": self.production.sg_project_id,
            "webhook_secret": WEBHOOK_SECRET,
            "allow_private_addresses": True,  # the emulator listens on loopback
            **overrides,
        }
        return ShotGridConfig.model_validate(values)

    def connector(self) -> ShotGridConnector:
        if self._connector is None:
            self._connector = self.make_connector()
        return self._connector

    def make_connector(
        self, *, deps: dict[str, Any] | None = None, **config: Any
    ) -> ShotGridConnector:
        """A new connector on this sandbox (the caller closes it), with config overrides."""
        return ShotGridConnector.from_config(
            "shotgrid", self.config(**config), **{"sleep": fast_sleep, **(deps or {})}
        )

    # -- the sandbox's side ---------------------------------------------------------------
    def live_ids(self, entity: str) -> set[str]:
        """Ids of the live rows of `entity` in the seeded project."""
        service = self.sandbox.service
        with service.lock:
            definition = service.schema.entities[entity]
            slot = definition.index["project"]
            project = ("Project", self.production.sg_project_id)
            return {
                str(r.id)
                for r in service.store.tables[entity].records.values()
                if not r.retired and r.values[slot] == project
            }

    def expected_ids(self) -> set[str]:
        return self.live_ids(self.entity)

    def id_of(self, record: SourceRecord) -> str:
        return str(record.data["id"]) if record.data else str(record.external_id)

    def person(self) -> str:
        """The login of a person who edits in the web UI."""
        return self.production.people[1].key

    def edit_as_person(self, external_id: str, **attributes: Any) -> None:
        self._edits += 1
        reply = self.control.post(
            f"/_sandbox/entity/{self.entity}/{external_id}/edit",
            json={
                "as": self.person(),
                "attributes": attributes or {"content": f"Edited by a person #{self._edits}"},
            },
        )
        reply.raise_for_status()

    def push_item(self, external_id: str) -> tuple[PushItem, Callable[[SourceRecord], bool]]:
        payload = {"content": f"Pushed title for {external_id}", "sg_status_list": "rev"}

        def shows_it(record: SourceRecord) -> bool:
            return all(record.data.get(k) == v for k, v in payload.items())

        return PushItem(external_id=external_id, payload=payload), shows_it

    def webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """Point the sandbox's webhooks at a receiver, edit as a person, keep the delivery."""
        receiver = self.receive_webhooks()
        before = len(receiver.deliveries)
        self.edit_as_person(external_id)
        self.flush_webhooks()
        assert len(receiver.deliveries) > before, "the sandbox sent no webhook"
        return receiver.deliveries[-1]

    def receive_webhooks(self) -> Receiver:
        """Send the sandbox's webhooks, signed with WEBHOOK_SECRET, to a loopback receiver."""
        if self._receiver is None:
            self._receiver = Receiver()
            self.control.put(
                "/_sandbox/webhook", json={"url": self._receiver.url, "secret": WEBHOOK_SECRET}
            ).raise_for_status()
        return self._receiver

    def flush_webhooks(self) -> None:
        """Wait until the sandbox has sent every queued delivery."""
        self.control.post("/_sandbox/webhook/flush").raise_for_status()

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
    """The ShotGrid harness the contract suite drives."""
    return ShotGridHarness()
