"""ShotGrid (Flow Production Tracking) sandbox: REST API v1 and api3 JSON, a loopback emulator.

`ShotGridSandbox(...).create_app()` serves `/api/v1` (and `/api/v1.1`): token auth with
expiry, entity list/read/search/create/update/delete/revive, transactional `_batch`, field
schema with status lists, the `{"errors": [...]}` envelope, rate limiting, injected faults,
and signed webhooks per changed attribute. Module map: `schema` (types and fields), `store`
(compact records), `filters` / `query` / `render` (reads), `writes` (validated transactional
writes), `events` (webhook deliveries), `auth` (tokens), `routes` / `control` (HTTP), `service`
(locked operations), `seed` (from a Production), `sandbox` (the façade). The same store also
answers `POST /api3/json`, the JSON-RPC protocol of the `shotgun_api3` client: `api3` (methods and
route), `api3_protocol` (envelope, faults), `api3_auth`, `api3_filters`, `api3_records`,
`api3_summaries`, `api3_schema`.
"""

from .sandbox import ShotGridSandbox

__all__ = ["ShotGridSandbox"]
