"""Who is calling and how fast: Basic `email:api_token` auth and token buckets per credential,
endpoint and method (Jira's burst limits: "one tenant, one endpoint, one HTTP method").

Unauthenticated or rejected callers get Jira Cloud's 401 (a one-line text body, an OAuth
`WWW-Authenticate` challenge); callers over `knobs.rate_limit_per_minute` get its 429 with
`Retry-After` and the `X-RateLimit-*` / `RateLimit-Reason` headers.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from syncd_sandbox.jira.errors import RATE_LIMITED, UNAUTHENTICATED, JiraError
from syncd_sandbox.knobs import Knobs, TokenBucket

ANONYMOUS = "anonymous"
# Jira's burst limits are per second; a bucket holding ~10 s of the rate allows short bursts.
BURST_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Credential:
    """An API token and the account it authenticates as."""

    email: str
    api_token: str
    account_id: str


@dataclass(frozen=True, slots=True)
class Identity:
    """The outcome of reading `Authorization`: an account, or why there is none."""

    account_id: str | None
    rejected: bool  # a credential was sent and did not match


class Gatekeeper:
    """Authenticates requests and rate-limits them per credential."""

    def __init__(
        self,
        credentials: Sequence[Credential],
        knobs: Knobs,
        *,
        wall_clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = {c.email.casefold(): c for c in credentials}
        self.knobs = knobs
        self._wall_clock, self._monotonic = wall_clock, monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._bucket_rate: int | None = None

    def identify(self, authorization: str | None) -> Identity:
        """Read a `Basic` header; anything else counts as a rejected credential."""
        if not authorization:
            return Identity(None, rejected=False)
        scheme, _, encoded = authorization.partition(" ")
        if scheme.casefold() != "basic":
            return Identity(None, rejected=True)
        try:
            email, _, token = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return Identity(None, rejected=True)
        credential = self._credentials.get(email.casefold())
        if credential is None or credential.api_token != token:
            return Identity(None, rejected=True)
        return Identity(credential.account_id, rejected=False)

    def unauthorized(self, identity: Identity, *, base_url: str, accept: str) -> JiraError:
        """Jira Cloud's 401: plain text, typed by `Accept`, with an OAuth challenge."""
        headers = {
            "WWW-Authenticate": f'OAuth realm="{quote(base_url, safe="")}"',
            "X-Frame-Options": "SAMEORIGIN",
        }
        if identity.rejected:
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        media = "application/json" if "application/json" in accept else "text/plain"
        return JiraError(
            401, headers=headers, body=UNAUTHENTICATED.encode(), media_type=f"{media};charset=UTF-8"
        )

    def throttle(self, caller: str, endpoint: str) -> None:
        """Take one token from the caller's bucket for this endpoint or raise Jira's 429."""
        bucket = self._bucket(f"{caller} {endpoint}")
        if bucket is None:
            return
        wait = bucket.try_take()
        if wait <= 0:
            return
        retry_after = max(1, math.ceil(wait))
        reset = self._wall_clock().astimezone(UTC) + timedelta(seconds=retry_after)
        reset_minute = reset.replace(second=0, microsecond=0) + timedelta(minutes=1)
        raise JiraError(
            429,
            [RATE_LIMITED],
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(int(bucket.capacity)),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset_minute:%Y-%m-%dT%H:%M}Z",
                "RateLimit-Reason": "jira-burst-based",
            },
        )

    def _bucket(self, key: str) -> TokenBucket | None:
        per_minute = self.knobs.rate_limit_per_minute
        with self._lock:
            if per_minute != self._bucket_rate:  # the knob was turned: start over
                self._buckets.clear()
                self._bucket_rate = per_minute
            if per_minute is None:
                return None
            bucket = self._buckets.get(key)
            if bucket is None:
                rate = per_minute / 60.0
                capacity = max(1.0, rate * BURST_SECONDS)
                bucket = TokenBucket(rate, capacity, clock=self._monotonic)
                self._buckets[key] = bucket
            return bucket
