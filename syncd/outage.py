"""One log line when something starts failing, and one when it works again.

A loop that retries every second (the scheduler, each worker lane, the inbox writer) would
otherwise log a traceback per turn for as long as the store is down: hundreds of lines that
hide the one that matters. The first failure is logged with its traceback, the failures
after it only at DEBUG (counted), and the recovery once, with how long it lasted.
"""

from __future__ import annotations

import logging
import threading
import time


class OutageLog:
    """The failing/working state of one loop, logged on each change only."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger, self.what = logger, what
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0

    @property
    def failing(self) -> bool:
        """The last attempt failed."""
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        """An attempt failed: logged (with the traceback) only if the previous one worked."""
        with self._lock:
            self._failures += 1
            first = self._since is None
            if first:
                self._since = time.monotonic()
        if first:
            self.logger.error(
                "%s is failing: %s: %s (logged once; the next line says when it works again)",
                self.what,
                type(exc).__name__,
                exc,
                exc_info=exc,
                extra={"outage": self.what, "outage_state": "failing"},
            )
        else:
            self.logger.debug("%s is still failing: %s", self.what, type(exc).__name__)

    def ok(self) -> None:
        """An attempt worked: logged only if the previous one failed."""
        with self._lock:
            if self._since is None:
                return
            seconds, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        self.logger.warning(
            "%s works again after %.0f s and %d failed attempts",
            self.what,
            seconds,
            failures,
            extra={"outage": self.what, "outage_state": "recovered", "outage_seconds": seconds},
        )
