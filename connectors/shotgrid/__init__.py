"""ShotGrid (Flow Production Tracking) connector over the REST API v1 (httpx).

Modules: `config` (the `[connectors.<name>]` table), `client` (HTTP calls only: auth,
`_search`, `_batch`), `paging` (cursors, keyset pages, record shape), `connector` (the
connector contract), `webhooks` (signature check and delivery parsing).
"""

from .config import ShotGridConfig
from .connector import ShotGridConnector

__all__ = ["ShotGridConfig", "ShotGridConnector"]
