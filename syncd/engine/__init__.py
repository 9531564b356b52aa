"""One sync: pull -> map -> reconcile -> store (one transaction per page) -> push the outbox.

The engine composes one module per step: `pull` (pages, cursors, turns at the store),
`ingest` (translate, link, reconcile and store a page), `refresh` (re-read on request),
`push` (claim, read-before-write, write, record). Only the pull's run boundary catches
broadly: a connector that fails is recorded and logged with its name, its cursor stays where
the last stored page left it, and the other connectors go on.
"""

from syncd.engine.engine import Engine
from syncd.engine.ingest import OnCommit
from syncd.engine.pull import Progress
from syncd.engine.report import SyncReport

__all__ = ["Engine", "OnCommit", "Progress", "SyncReport"]
