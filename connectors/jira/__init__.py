"""Jira Cloud connector over REST v3 with the `jira` library.

Modules: `config` (the `[connectors.<name>]` table), `transport` (a requests adapter that
sends through httpx), `client` (HTTP calls only, on the library's public session class),
`fields` (custom fields by name), `jql` (queries and the cursor), `transitions` (statuses
and workflows remembered), `push` (writing one issue), `webhooks` (signature and
deliveries), `connector` (the contract).
"""

from .config import JiraConfig
from .connector import JiraConnector

__all__ = ["JiraConfig", "JiraConnector"]
