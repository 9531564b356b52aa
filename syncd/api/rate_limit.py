"""Per-client rate limits on the webhook and admin routes (429 with `Retry-After`).

Moving windows from the `limits` library, kept in memory (each replica counts its own
requests). Webhooks are counted per client address; admin requests per token name when the
token is known, else per client address, so one dashboard cannot starve another and token
guessing is slowed down by address. A request over a limit is refused before the app reads
anything of it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from syncd.api.admin_guard import admin_caller, client_address, is_admin_path
from syncd.api.auth import TokenTable
from syncd.api.refusals import refuse

log = logging.getLogger(__name__)

WEBHOOK_PATH_PREFIX = "/webhooks/"
# Clients being throttled, remembered to log when each starts and stops being refused; past
# this many (a flood from many addresses) the rest are refused without a line each.
MAX_THROTTLED_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class RateRule:
    """Limits for one group of routes, and whom a request is counted against."""

    group: str
    applies: Callable[[Scope], bool]
    limits: Sequence[RateLimitItem]
    key: Callable[[Scope], str]


def parse_limits(text: str) -> list[RateLimitItem]:
    """`"500/second;20000/minute"` as limits; an empty text is no limit."""
    return parse_many(text) if text.strip() else []


def default_rules(*, webhooks: str, admin: str, tokens: TokenTable) -> list[RateRule]:
    """The webhook rule (per address) and the admin rule (per token name, else address)."""

    def admin_key(scope: Scope) -> str:
        caller = admin_caller(scope, tokens)
        return f"token:{caller.name}" if caller is not None else f"address:{client_address(scope)}"

    return [
        RateRule(
            "webhooks",
            lambda scope: str(scope.get("path", "")).startswith(WEBHOOK_PATH_PREFIX),
            parse_limits(webhooks),
            lambda scope: f"address:{client_address(scope)}",
        ),
        RateRule("admin", is_admin_path, parse_limits(admin), admin_key),
    ]


class RateLimitMiddleware:
    """429 with `Retry-After` once a client passes a rule's limit."""

    def __init__(self, app: ASGIApp, *, rules: Sequence[RateRule]) -> None:
        self.app = app
        self.rules = [rule for rule in rules if rule.limits]
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self._throttled: dict[tuple[str, str], int] = {}  # (group, key) -> requests refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against the first rule that applies; refuse it when over."""
        if scope["type"] == "http":
            rule = next((r for r in self.rules if r.applies(scope)), None)
            if rule is not None:
                key = rule.key(scope)
                for limit in rule.limits:
                    if not self.limiter.hit(limit, rule.group, key):
                        wait = self._retry_after(limit, rule.group, key)
                        self._note_refused(rule.group, key, str(limit))
                        await refuse(
                            scope,
                            receive,
                            send,
                            429,
                            f"too many {rule.group} requests: the limit is {limit}; "
                            f"retry in {wait} s",
                            {"Retry-After": str(wait)},
                        )
                        return
                self._note_passed(rule.group, key)
        await self.app(scope, receive, send)

    def _note_refused(self, group: str, key: str, limit: str) -> None:
        """Log the first refusal of a client, not every one (a flood would flood the log)."""
        refused = self._throttled.get((group, key))
        if refused is not None:
            self._throttled[(group, key)] = refused + 1
        elif len(self._throttled) < MAX_THROTTLED_REMEMBERED:
            self._throttled[(group, key)] = 1
            log.warning(
                "rate limit: refusing %s requests of %s (over %s) until it slows down",
                group,
                key,
                limit,
                extra={"rate_limit": group, "client": key, "throttled": True},
            )

    def _note_passed(self, group: str, key: str) -> None:
        """A throttled client got through again: say how many of its requests were refused."""
        refused = self._throttled.pop((group, key), None)
        if refused is not None:
            log.warning(
                "rate limit: %s requests of %s pass again; %d were refused (429)",
                group,
                key,
                refused,
                extra={"rate_limit": group, "client": key, "throttled": False, "refused": refused},
            )

    def _retry_after(self, limit: RateLimitItem, group: str, key: str) -> int:
        """Whole seconds until the window lets one more request through (at least 1)."""
        stats = self.limiter.get_window_stats(limit, group, key)
        return max(1, math.ceil(stats.reset_time - time.time()))
