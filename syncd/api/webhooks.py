"""`POST /webhooks/{connector}`: verify, store in the inbox, answer 202 — nothing more.

Every delivery is verified with the tool's own scheme before anything is stored; refused
deliveries get a 401 and a log line with the reason (never the secret or the signature).
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from syncd.api.services import ServicesDep
from syncd.connector import Capability
from syncd.errors import UnsupportedCapability
from syncd.inbox import Delivery, RefusedDelivery
from syncd.signatures import SignatureError

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])


class WebhookAccepted(BaseModel):
    """The answer to an accepted delivery."""

    stored: int
    duplicates: int
    echoes: int


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhooks/{connector}",
    status_code=202,
    response_model=WebhookAccepted,
    responses={
        400: {"description": "malformed delivery"},
        401: {"description": "not verified"},
        404: {"description": "no such connector"},
        413: {"description": "too large"},
        429: {"description": "too many deliveries from this address (`Retry-After`)"},
        503: {"description": "the inbox is unavailable: deliver again later"},
    },
)
async def receive(connector: str, request: Request, services: ServicesDep) -> JSONResponse:
    """Receive one delivery from a tool."""
    plugin = services.connectors.get(connector)
    if plugin is None or Capability.WEBHOOK not in plugin.capabilities:
        raise HTTPException(404, f"no connector {connector!r} takes webhooks here")
    metrics = services.metrics.deliveries
    body = await _read_limited(request, services.settings.api.max_body_bytes)
    headers = dict(request.headers)
    try:
        events = plugin.parse_webhook(headers, body)
    except SignatureError as exc:
        metrics.labels(connector, "refused").inc()
        log.warning(
            "refused a %s delivery from %s: %s",
            connector,
            request.client.host if request.client else "?",
            exc,
        )
        raise HTTPException(401, f"delivery not verified: {exc}") from None
    except (ValueError, json.JSONDecodeError, UnsupportedCapability) as exc:
        metrics.labels(connector, "malformed").inc()
        raise HTTPException(400, f"malformed delivery: {exc}") from None
    try:
        # Group commit: stored with whatever else arrived meanwhile, in one transaction.
        result = await services.inbox.submit(Delivery(plugin, headers, body, events))
    except RefusedDelivery as exc:  # this delivery alone: the others of its group are stored
        metrics.labels(connector, "malformed").inc()
        log.warning("refused a %s delivery: %s", connector, exc)
        raise HTTPException(400, f"malformed delivery: {exc}") from None
    except Exception as exc:  # the store is down: 503 makes the tool deliver it again
        metrics.labels(connector, "unavailable").inc()
        # The inbox writer logs the outage once; a line per delivery would flood the log.
        log.debug("could not store a %s delivery: %s", connector, type(exc).__name__)
        raise HTTPException(503, "the inbox is unavailable; deliver again later") from None
    metrics.labels(connector, "stored").inc(result.stored)
    metrics.labels(connector, "duplicate").inc(result.duplicates)
    metrics.labels(connector, "echo").inc(result.echoes)
    answer = WebhookAccepted(
        stored=result.stored, duplicates=result.duplicates, echoes=result.echoes
    )
    return JSONResponse(answer.model_dump(), status_code=202)
