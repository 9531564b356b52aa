"""Knobs every emulator shares: added latency, injected faults, call counting, token buckets.

`install_knobs(app, ...)` wraps an emulator's FastAPI app so that every API call (anything
outside `/_sandbox`) is counted per endpoint, delayed by the configured latency, and may fail
with an injected fault. Rate limits are per tool (their 429 bodies and buckets differ), so
each emulator owns its buckets and uses `TokenBucket` / `MinuteWindow` from here.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

FaultKind = Literal["500", "503", "timeout", "drop"]
CONTROL_PREFIX = "/_sandbox"


class Knobs(BaseModel):
    """Behaviour an emulator can be turned to; change it at start or via PATCH /_sandbox/knobs."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    latency_ms: float = Field(0.0, ge=0, description="fixed delay added to every API call")
    jitter_ms: float = Field(0.0, ge=0, description="extra uniform random delay, 0..jitter")
    fault_rate: float = Field(0.0, ge=0, le=1, description="probability a call fails")
    faults: list[FaultKind] = Field(default_factory=lambda: list[FaultKind](["500"]))
    timeout_seconds: float = Field(30.0, ge=0, description="how long a 'timeout' fault stalls")
    rate_limit_per_minute: int | None = Field(
        None, ge=1, description="the tool's quota; None turns rate limiting off"
    )
    page_size_cap: int | None = Field(None, ge=1, description="lower the tool's max page size")
    seed: int | None = Field(None, description="seed for fault draws, for repeatable runs")


class KnobsPatch(BaseModel):
    """A partial update of `Knobs`."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = None
    jitter_ms: float | None = None
    fault_rate: float | None = None
    faults: list[FaultKind] | None = None
    timeout_seconds: float | None = None
    rate_limit_per_minute: int | None = None
    page_size_cap: int | None = None
    seed: int | None = None


class CallLog:
    """Counts API calls per endpoint, e.g. `GET /rest/api/3/search/jql`; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, endpoint: str) -> None:
        """Count one call."""
        with self._lock:
            self._counts[endpoint] += 1

    def snapshot(self) -> dict[str, int]:
        """Calls per endpoint so far."""
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        """All calls so far."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()


class TokenBucket:
    """A token bucket: `capacity` tokens, refilled at `rate` per second."""

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.capacity, self._clock = rate, capacity, clock
        self._tokens = capacity
        self._last = clock()
        self._lock = threading.Lock()

    def try_take(self, n: float = 1.0) -> float:
        """Take n tokens; return 0.0 on success, else the seconds until they would be there."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= n:
                self._tokens -= n
                return 0.0
            return (n - self._tokens) / self.rate


class MinuteWindow:
    """A per-minute quota refilled at each minute boundary, as Google's quotas are."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit, self._clock = limit, clock
        self._minute = -1
        self._used = 0
        self._lock = threading.Lock()

    def try_take(self) -> float:
        """Count one request; return 0.0 if within quota, else seconds to the next minute."""
        with self._lock:
            now = self._clock()
            minute = int(now // 60)
            if minute != self._minute:
                self._minute, self._used = minute, 0
            if self._used < self.limit:
                self._used += 1
                return 0.0
            return 60.0 - (now % 60)


FaultResponder = Callable[[int], Response]


def _route_template(routes: Sequence[Any], scope: Scope, prefix: str = "") -> str | None:
    """The path template (`/issue/{key}`) of the route a request goes to, through includes."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.FULL:
            continue
        # FastAPI wraps included routers; look inside for the route itself.
        included = getattr(route, "original_router", None)
        if included is not None:
            extra = route.include_context.prefix
            path = scope["path"]
            inner = {**scope, "path": path[len(extra) :]} if extra else scope
            return _route_template(included.routes, inner, prefix + extra)
        path_template = getattr(route, "path", None)
        return prefix + path_template if path_template else None
    return None


class _KnobsMiddleware:
    """Pure ASGI middleware: count, delay, inject faults. Streaming-safe."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router_app: FastAPI,
        knobs: Knobs,
        calls: CallLog,
        fault_response: FaultResponder,
    ) -> None:
        self.app, self._router_app = app, router_app
        self.knobs, self.calls, self._fault_response = knobs, calls, fault_response
        self._random = random.Random(knobs.seed)
        self._seed = knobs.seed

    def _endpoint(self, scope: Scope) -> str:
        template = _route_template(self._router_app.router.routes, scope)
        return f"{scope['method']} {template or scope['path']}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        knobs = self.knobs
        self.calls.record(self._endpoint(scope))
        if knobs.seed != self._seed:
            self._random, self._seed = random.Random(knobs.seed), knobs.seed
        delay = knobs.latency_ms + self._random.uniform(0, knobs.jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if knobs.fault_rate > 0 and self._random.random() < knobs.fault_rate:
            await self._fault(self._random.choice(knobs.faults), scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _fault(self, kind: FaultKind, scope: Scope, receive: Receive, send: Send) -> None:
        if kind == "timeout":
            await asyncio.sleep(self.knobs.timeout_seconds)
            kind = "503"
        if kind == "drop":
            # Promise a body and close before sending it: the client sees a broken connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": False})
            return
        response = self._fault_response(int(kind))
        await response(scope, receive, send)


def install_knobs(
    app: FastAPI, *, knobs: Knobs, calls: CallLog, fault_response: FaultResponder
) -> None:
    """Wrap `app` with latency, faults and call counting, and mount the knobs control API.

    `fault_response(status)` builds the tool's own error body for an injected 500 or 503.
    """
    app.add_middleware(
        _KnobsMiddleware,
        router_app=app,
        knobs=knobs,
        calls=calls,
        fault_response=fault_response,
    )
    app.include_router(knobs_router(knobs, calls))


def knobs_router(knobs: Knobs, calls: CallLog) -> APIRouter:
    """`/_sandbox/knobs` and `/_sandbox/calls`: read and turn the knobs, read the call counts."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

    @router.get("/knobs")
    def get_knobs() -> Knobs:
        return knobs

    @router.patch("/knobs")
    def patch_knobs(patch: KnobsPatch) -> Knobs:
        for name, value in patch.model_dump(exclude_unset=True).items():
            setattr(knobs, name, value)
        return knobs

    @router.get("/calls")
    def get_calls() -> dict[str, int]:
        return calls.snapshot()

    @router.post("/calls/reset", status_code=204)
    def reset_calls() -> None:
        calls.reset()

    return router


async def read_body_limited(request: Request, limit: int) -> bytes:
    """Read a request body, refusing more than `limit` bytes (sandbox payload caps)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ValueError(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
