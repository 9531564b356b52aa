"""Sheets API quotas: read and write requests per minute, per user and per project.

Google refills each quota at the minute boundary (`MinuteWindow`) and answers 429
RESOURCE_EXHAUSTED naming the metric and the limit, with no Retry-After header. A batch
endpoint counts as one request. `Knobs.rate_limit_per_minute`, when set, overrides the
per-user limit on every request (so PATCHing the knob takes effect at once), and limits
users even when `QuotaLimits.enabled` is off; None leaves Google's defaults in charge.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from syncd_sandbox.knobs import Knobs, MinuteWindow
from syncd_sandbox.sheets.errors import SHEETS_SERVICE, SheetsApiError

Kind = Literal["read", "write"]


class QuotaLimits(BaseModel):
    """Per-minute limits (Google's defaults); `enabled=False` turns quotas off for unit tests."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    enabled: bool = True
    read_per_user: int = Field(60, ge=1)
    write_per_user: int = Field(60, ge=1)
    read_per_project: int = Field(300, ge=1)
    write_per_project: int = Field(300, ge=1)
    project_number: str = "123456789012"


class QuotaLimitsPatch(BaseModel):
    """A partial update of `QuotaLimits` (PATCH /_sandbox/quotas)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    read_per_user: int | None = Field(None, ge=1)
    write_per_user: int | None = Field(None, ge=1)
    read_per_project: int | None = Field(None, ge=1)
    write_per_project: int | None = Field(None, ge=1)


class Quotas:
    """Counts requests per (user, kind) and per kind for the project; raises 429 when spent."""

    def __init__(self, limits: QuotaLimits, knobs: Knobs, clock: Callable[[], float]) -> None:
        self.limits, self._knobs, self._clock = limits, knobs, clock
        self._lock = threading.Lock()
        self._users: dict[tuple[str, Kind], MinuteWindow] = {}
        self._project: dict[Kind, MinuteWindow] = {}

    def reset(self) -> None:
        """Forget what was used this minute."""
        with self._lock:
            self._users.clear()
            self._project.clear()

    def take(self, user: str, kind: Kind) -> None:
        """Count one request by `user`; raise SheetsApiError 429 when a quota is exhausted."""
        limits = self.limits
        knob = self._knobs.rate_limit_per_minute
        if not limits.enabled and knob is None:
            return
        per_user = knob or (limits.read_per_user if kind == "read" else limits.write_per_user)
        per_project = limits.read_per_project if kind == "read" else limits.write_per_project
        with self._lock:
            user_window = self._users.setdefault((user, kind), MinuteWindow(per_user, self._clock))
            project_window = self._project.setdefault(kind, MinuteWindow(per_project, self._clock))
        user_window.limit, project_window.limit = per_user, per_project
        if user_window.try_take() > 0:
            raise self._exhausted(kind, per_user, per_user=True)
        # With quotas off, a knob still limits each user (it is the cross-tool throttle switch).
        if limits.enabled and project_window.try_take() > 0:
            raise self._exhausted(kind, per_project, per_user=False)

    def _exhausted(self, kind: Kind, limit: int, *, per_user: bool) -> SheetsApiError:
        metric = "Read requests" if kind == "read" else "Write requests"
        limit_name = f"{metric} per minute" + (" per user" if per_user else "")
        consumer = f"project_number:{self.limits.project_number}"
        message = (
            f"Quota exceeded for quota metric '{metric}' and limit '{limit_name}' of service "
            f"'{SHEETS_SERVICE}' for consumer '{consumer}'."
        )
        camel = "ReadRequests" if kind == "read" else "WriteRequests"
        return SheetsApiError(
            429,
            "RESOURCE_EXHAUSTED",
            message,
            errors=[{"message": message, "domain": "global", "reason": "rateLimitExceeded"}],
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": SHEETS_SERVICE,
                        "consumer": f"projects/{self.limits.project_number}",
                        "quota_metric": f"{SHEETS_SERVICE}/{kind}_requests",
                        "quota_limit": f"{camel}PerMinutePer{'User' if per_user else 'Project'}",
                        "quota_limit_value": str(limit),
                        "quota_location": "global",
                    },
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {
                            "description": "Request a higher quota limit.",
                            "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                        }
                    ],
                },
            ],
        )
