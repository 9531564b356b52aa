"""The admin API, `/admin/v1`: mappings, conflicts, status, records, sync triggers.

Every route needs a bearer token (`syncd.api.auth`): a viewer token reads, an admin token
also changes things. Routes are grouped per resource in the modules of this package;
`mount()` adds the routes to the app with the hashed tokens they check.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from syncd.api.admin import conflicts, mappings, records, status, sync
from syncd.api.admin.responses import AUTH_RESPONSES
from syncd.api.auth import TokenTable, require_viewer

PREFIX = "/admin/v1"


def _router() -> APIRouter:
    # Every route needs at least a viewer token: no admin route can be public by mistake.
    router = APIRouter(
        prefix=PREFIX, dependencies=[Depends(require_viewer)], responses=AUTH_RESPONSES
    )
    for module in (mappings, conflicts, status, records, sync):
        router.include_router(module.router)
    return router


def mount(app: FastAPI, tokens: TokenTable) -> None:
    """Serve the admin API on `app`, checking `tokens` (kept hashed)."""
    app.state.admin_tokens = tokens
    app.include_router(_router())
