"""The shared sandbox knobs: calls counted per route template, latency, injected faults."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from syncd_sandbox.knobs import CallLog, Knobs, install_knobs


def _app(knobs: Knobs, calls: CallLog) -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/rest/api/3")

    @router.get("/issue/{key}")
    def issue(key: str) -> dict[str, str]:
        return {"key": key}

    app.include_router(router)
    install_knobs(
        app,
        knobs=knobs,
        calls=calls,
        fault_response=lambda status: JSONResponse({"fault": status}, status_code=status),
    )
    return app


def test_calls_are_counted_per_route_template_through_included_routers() -> None:
    knobs, calls = Knobs(), CallLog()

    async def run() -> None:
        transport = httpx.ASGITransport(app=_app(knobs, calls))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for key in ("A-1", "A-2"):
                assert (await c.get(f"/rest/api/3/issue/{key}")).status_code == 200
            assert (await c.get("/_sandbox/calls")).json() == {"GET /rest/api/3/issue/{key}": 2}

    asyncio.run(run())


def test_latency_and_faults_follow_the_knobs() -> None:
    knobs, calls = Knobs(latency_ms=50, fault_rate=1.0, faults=["503"], seed=1), CallLog()

    async def run() -> None:
        transport = httpx.ASGITransport(app=_app(knobs, calls))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            started = time.perf_counter()
            response = await c.get("/rest/api/3/issue/A-1")
            assert response.status_code == 503 and response.json() == {"fault": 503}
            assert time.perf_counter() - started >= 0.05
            patched = await c.patch("/_sandbox/knobs", json={"fault_rate": 0, "latency_ms": 0})
            assert patched.json()["fault_rate"] == 0
            assert (await c.get("/rest/api/3/issue/A-1")).status_code == 200

    asyncio.run(run())
