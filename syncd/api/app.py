"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from syncd import __version__
from syncd.api import admin, ops, webhooks
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
    app.state.services = services
    app.include_router(webhooks.router)
    app.include_router(ops.router)
    admin.mount(app, services.settings.api)
    return app
