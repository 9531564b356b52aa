"""Calls on the wire: one table of what status codes mean, one retry policy, one rate limiter.

No other module interprets status codes. Connectors turn their library's failure (an httpx
response, a `JIRAError`, a gspread `APIError`) into `(status, headers, message)` and call
`raise_for_status`; the shared `retry_policy` retries only `TransientError`, waits what
`Retry-After` says when the tool says it (else exponential backoff with jitter), and is
bounded in attempts and in time.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.wait import wait_base

from syncd.errors import AuthError, PermanentError, TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
CREDENTIAL_STATUSES = frozenset({401})


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked to wait (`Retry-After` as seconds or HTTP date), if it did."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def raise_for_status(
    connector: str,
    status: int,
    headers: Mapping[str, str],
    message: str,
    *,
    auth_setting: str,
    credential_statuses: Collection[int] = CREDENTIAL_STATUSES,
    refused: str = "the credentials were refused",
) -> None:
    """Raise the error a non-2xx answer means; return quietly on success.

    401 (and 403 with Jira's authentication-denied header) is bad credentials: it names the
    setting to fix. 408/425/429/5xx are transient. Every other 4xx is permanent for this call.
    An endpoint that refuses credentials with other statuses says so in
    `credential_statuses` (ShotGrid's token endpoint answers a wrong script key with 400),
    and `refused` words whose credentials they were.
    """
    if status < 400:
        return
    message = message.strip()[:500] or f"HTTP {status}"
    denied = next(
        (v for k, v in headers.items() if k.lower() == "x-authentication-denied-reason"), None
    )
    if status in credential_statuses or (status == 403 and denied):
        raise AuthError(connector, f"{refused} ({status}: {message})", setting=auth_setting)
    if status in TRANSIENT_STATUSES:
        raise TransientError(
            connector,
            f"{status}: {message}",
            retry_after=retry_after_seconds(headers),
            status=status,
        )
    raise PermanentError(connector, f"{status}: {message}")


def raise_for_response(connector: str, response: httpx.Response, *, auth_setting: str) -> None:
    """`raise_for_status` for an httpx response."""
    if response.is_success:
        return
    raise_for_status(
        connector, response.status_code, response.headers, response.text, auth_setting=auth_setting
    )


class wait_retry_after(wait_base):
    """Wait what the server's Retry-After said; otherwise exponential backoff with jitter."""

    def __init__(self, *, initial: float = 0.5, maximum: float = 60.0) -> None:
        self.initial, self.maximum = initial, maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            # A little jitter on top so that many workers do not come back in lock-step.
            return min(self.maximum, error.retry_after) + random.uniform(0, 0.1)
        backoff = self.initial * 2 ** (retry_state.attempt_number - 1)
        return random.uniform(0, min(self.maximum, backoff))  # "full jitter"


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    # The extra fields let the service count retries and 429s per connector (metrics).
    extra = {
        "syncd_retry_connector": getattr(error, "connector", None),
        "syncd_retry_status": getattr(error, "status", None),
    }
    log.warning(
        "retrying in %.1fs after attempt %d: %s",
        wait,
        retry_state.attempt_number,
        error,
        extra=extra,
    )


def retry_policy(
    *,
    attempts: int = 6,
    max_seconds: float = 300.0,
    max_wait: float = 60.0,
    initial_wait: float = 0.5,
    sleep: Sleep = time.sleep,
) -> Retrying:
    """The one retry policy: only transient errors, bounded in attempts and total time."""
    return Retrying(
        retry=retry_if_exception_type((TransientError, httpx.TransportError)),
        wait=wait_retry_after(initial=initial_wait, maximum=max_wait),
        stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
        sleep=sleep,
        reraise=True,
        before_sleep=_log_retry,
    )


def transport_error(connector: str, exc: httpx.TransportError) -> TransientError:
    """A network failure (refused, reset, timed out) as a retryable error."""
    return TransientError(connector, f"network error: {type(exc).__name__}: {exc}")


class RateLimiter:
    """Client-side token bucket: stay under a tool's quota instead of bouncing off it."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, per_minute / 6.0)
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds spent waiting, for status and benchmarks

    @classmethod
    def per_clock_minute(
        cls, per_minute: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> RateLimiter:
        """For a quota refilled at each minute boundary (Google's): a bucket's burst plus a
        minute of refill is all that any minute can see, so together they stay within it
        (a burst of a twelfth, the rest spread over the minute). A plain bucket at the full
        rate goes over in a minute that starts with it full, and the 429s that follow carry
        no Retry-After: seconds of backoff for a request that could have waited a second."""
        burst = max(1.0, per_minute / 12.0)
        return cls(max(per_minute - burst, per_minute / 2.0), burst=burst, clock=clock, sleep=sleep)

    def acquire(self, n: float = 1.0) -> None:
        """Block until `n` calls may be made."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= n - 1e-9:  # rounding: a wait of 1e-17 s may not move a clock
                    self._tokens = max(0.0, self._tokens - n)
                    return
                wait = (n - self._tokens) / self.rate
            self.waited += wait
            self._sleep(wait)


class EndpointRateLimits:
    """A token bucket per endpoint and method, each at the same rate, made on first use.

    For tools that count their limits that way: Jira Cloud's burst limits are "one tenant,
    one endpoint, one HTTP method", so a backlog of issue edits must not hold up the
    searches that read what people just changed (and the other way round).
    """

    def __init__(
        self, per_minute: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.per_minute = per_minute
        self._clock, self._sleep = clock, sleep
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __getitem__(self, endpoint: str) -> RateLimiter:
        """The bucket of one endpoint, e.g. `"PUT issue/{key}"`."""
        with self._lock:
            limiter = self._limiters.get(endpoint)
            if limiter is None:
                limiter = RateLimiter(self.per_minute, clock=self._clock, sleep=self._sleep)
                self._limiters[endpoint] = limiter
            return limiter

    @property
    def waited(self) -> dict[str, float]:
        """Seconds spent waiting, per endpoint."""
        with self._lock:
            return {name: limiter.waited for name, limiter in self._limiters.items()}


def utc_timestamp() -> datetime:
    """Now, timezone-aware UTC (for connectors' cursors)."""
    return datetime.now(UTC)
