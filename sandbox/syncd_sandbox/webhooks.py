"""Outgoing webhooks from an emulator: signed the tool's way, sent off the request path, retried.

Each emulator owns one `WebhookSender`. `send()` never blocks the API call that caused the
edit: deliveries go through a queue to a background thread, as the real tools do. The control
API (`/_sandbox/webhook`) points it at a receiver, sets the secret, and lets tests pause,
drop or duplicate deliveries.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

Mode = Literal["deliver", "drop", "duplicate", "pause"]
Signer = Callable[[bytes, str], dict[str, str]]


class WebhookConfig(BaseModel):
    """Where deliveries go and how; set at start or via PUT /_sandbox/webhook."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    url: str | None = Field(None, description="receiver URL; None sends nothing")
    secret: str | None = Field(None, description="signing secret; None sends unsigned")
    mode: Mode = Field("deliver", description="deliver | drop | duplicate | pause")
    max_attempts: int = Field(5, ge=1, description="attempts per delivery, first included")
    backoff_seconds: float = Field(0.2, ge=0, description="first retry delay, doubled per retry")
    timeout_seconds: float = Field(6.0, gt=0, description="receiver must answer within this")


@dataclass(slots=True)
class Delivery:
    """One webhook delivery: the exact bytes sent and the tool's headers (signature added)."""

    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    status: int | None = None


@dataclass
class WebhookStats:
    """What the sender did so far."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    dropped: int = 0
    history: list[Delivery] = field(default_factory=list)


class WebhookSender:
    """Signs, queues and delivers one emulator's webhooks with the tool's retry behaviour."""

    def __init__(
        self,
        *,
        name: str,
        sign: Signer,
        retry_statuses: frozenset[int],
        config: WebhookConfig | None = None,
        keep_history: int = 1000,
    ) -> None:
        self.name = name
        self.config = config or WebhookConfig()
        self.stats = WebhookStats()
        self._sign = sign
        self._retry_statuses = retry_statuses
        self._keep_history = keep_history
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._resume = threading.Event()
        self._resume.set()
        self._lock = threading.Lock()
        self._pending = 0
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        """Queue one delivery of `payload` (JSON) with the tool's own `headers`."""
        if not self.config.url:
            return
        if self.config.mode == "drop":
            self.stats.dropped += 1
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        if self.config.secret:
            all_headers.update(self._sign(body, self.config.secret))
        copies = 2 if self.config.mode == "duplicate" else 1
        for _ in range(copies):
            self._enqueue(Delivery(body=body, headers=dict(all_headers)))

    def _enqueue(self, delivery: Delivery) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
            self.stats.queued += 1
        self._ensure_thread()
        self._queue.put(delivery)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=f"{self.name}-webhooks", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                delivery = self._queue.get()
                if delivery is None or self._closing.is_set():
                    return
                self._resume.wait()
                try:
                    self._deliver(client, delivery)
                finally:
                    with self._lock:
                        self._pending -= 1
                        if self._pending == 0:
                            self._idle.set()

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        config = self.config
        delay = config.backoff_seconds
        while delivery.attempts < config.max_attempts and config.url:
            if self._closing.is_set():
                return  # closed: queued and retrying deliveries are abandoned
            delivery.attempts += 1
            headers = dict(delivery.headers)
            if delivery.attempts > 1:
                headers.update(self.retry_headers(delivery.attempts - 1))
            try:
                response = client.post(
                    config.url,
                    content=delivery.body,
                    headers=headers,
                    timeout=config.timeout_seconds,
                )
                delivery.status = response.status_code
                if response.status_code < 400:
                    self._record(delivery, ok=True)
                    return
                retry = response.status_code in self._retry_statuses
            except httpx.HTTPError as exc:
                log.debug("%s webhook to %s failed: %s", self.name, config.url, exc)
                delivery.status, retry = None, True
            if not retry:
                break
            self.stats.retried += 1
            if self._closing.wait(delay):
                return
            delay *= 2
        self._record(delivery, ok=False)

    def retry_headers(self, retry_number: int) -> dict[str, str]:
        """Headers a tool adds to a retried delivery (override per tool; none by default)."""
        del retry_number
        return {}

    def _record(self, delivery: Delivery, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self.stats.delivered += 1
            else:
                self.stats.failed += 1
            self.stats.history.append(delivery)
            del self.stats.history[: -self._keep_history]

    def pause(self) -> None:
        """Hold deliveries in the queue until `resume()`."""
        self._resume.clear()

    def resume(self) -> None:
        """Deliver what was held."""
        self._resume.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery was delivered or given up; False on timeout."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the background thread (queued deliveries are abandoned)."""
        self._closing.set()
        self._resume.set()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)


class WebhookStatus(BaseModel):
    """Read-only view of a sender for the control API."""

    config: WebhookConfig
    queued: int
    delivered: int
    failed: int
    retried: int
    dropped: int


def webhook_router(sender: WebhookSender, prefix: str = "/_sandbox") -> APIRouter:
    """`/_sandbox/webhook`: point the sender somewhere, change its mode, flush it."""
    router = APIRouter(prefix=prefix, tags=["sandbox control"])

    def status() -> WebhookStatus:
        s = sender.stats
        return WebhookStatus(
            config=sender.config,
            queued=s.queued,
            delivered=s.delivered,
            failed=s.failed,
            retried=s.retried,
            dropped=s.dropped,
        )

    @router.get("/webhook")
    def get_webhook() -> WebhookStatus:
        return status()

    @router.put("/webhook")
    def put_webhook(config: WebhookConfig) -> WebhookStatus:
        sender.config = config
        if config.mode == "pause":
            sender.pause()
        else:
            sender.resume()
        return status()

    @router.post("/webhook/flush")
    def flush_webhook(timeout: float = 10.0) -> WebhookStatus:
        sender.flush(timeout)
        return status()

    return router
