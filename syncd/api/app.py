"""The FastAPI application factory."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from syncd import __version__
from syncd.api import admin, ops, webhooks
from syncd.api.admin_guard import AdminGuardMiddleware
from syncd.api.auth import TokenTable
from syncd.api.body_limit import BodyLimitMiddleware
from syncd.api.rate_limit import RateLimitMiddleware, default_rules
from syncd.api.services import Services

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(services: Services, *, lifespan: Lifespan | None = None) -> FastAPI:
    """The service's HTTP app over already-built services."""
    app = FastAPI(
        title="syncd",
        version=__version__,
        description="Webhooks in from Jira, ShotGrid and Google Sheets; admin API; operations.",
        lifespan=lifespan,
    )
    settings = services.settings.api
    tokens = TokenTable.from_settings(settings)
    app.state.services = services
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(webhooks.router)
    app.include_router(ops.router)
    admin.mount(app, tokens)
    # The last added runs first: rate limit, then the admin token, then the body limit, so a
    # refused request costs a few header reads and none of its body.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(AdminGuardMiddleware, tokens=tokens)
    app.add_middleware(
        RateLimitMiddleware,
        rules=default_rules(
            webhooks=settings.webhook_rate_limit, admin=settings.admin_rate_limit, tokens=tokens
        ),
    )
    return app


async def validation_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422, encoded so any input it echoes (a lone surrogate too) is valid JSON.

    The default answer encodes UTF-8 strictly, so a body holding `"\\udcdc"` became a 500.
    """
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")
