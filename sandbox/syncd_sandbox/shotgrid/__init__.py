"""ShotGrid (Flow Production Tracking) REST API v1 sandbox: a faithful loopback emulator.

`ShotGridSandbox(...).create_app()` serves `/api/v1` (and `/api/v1.1`): token auth with
expiry, entity list/read/search/create/update/delete/revive, transactional `_batch`, field
schema with status lists, the `{"errors": [...]}` envelope, rate limiting, injected faults,
and signed webhooks per changed attribute. Module map: `schema` (types and fields), `store`
(compact records), `filters` / `query` / `render` (reads), `writes` (validated transactional
writes), `events` (webhook deliveries), `auth` (tokens), `routes` / `control` (HTTP), `service`
(locked operations), `seed` (from a Production), `sandbox` (the façade).
"""

from .sandbox import ShotGridSandbox

__all__ = ["ShotGridSandbox"]
