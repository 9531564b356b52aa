"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from syncd.api.services import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """The store answers and mappings are loaded: ready for traffic."""
    problems = []
    try:
        with services.store.transaction() as tx:
            tx.ping()
    except Exception as exc:  # any failure means "not ready", with the reason
        problems.append(f"store: {type(exc).__name__}")
    if not services.engine.mappings.entities:
        problems.append("mappings: none loaded")
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready", "mapping_version": services.engine.mappings.version})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
            "description": "Prometheus text format",
        }
    },
)
def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics."""
    with services.store.transaction() as tx:
        services.metrics.queue_depth.labels("inbox").set(tx.inbox.depth())
        for connector, pending in tx.outbox.depth().items():
            services.metrics.queue_depth.labels(f"outbox:{connector}").set(pending)
    for kind, waiting in services.queue.depth().items():
        services.metrics.queue_depth.labels(f"jobs:{kind}").set(waiting)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
