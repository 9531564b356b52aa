"""The error tree. Every error syncd raises on purpose is one of these.

SyncError
  ConfigError            bad settings or mapping; stops at start-up with every problem listed
  ConnectorError         a connector call failed
    TransientError       network, 429, 5xx: retried by the shared retry policy
    AuthError            bad credentials: stops this connector with one clear message
    PermanentError       other 4xx: this call failed for good; the cursor stays put
  RecordError            one record cannot be mapped or pushed: reported, skipped, the run goes on
  UnsupportedCapability  the engine asked a connector for something it does not declare
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SyncError(Exception):
    """Base of every error syncd raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config or mapping, and where: `file [table] key: message`."""

    where: str
    message: str
    warning: bool = False  # worth saying, but the mapping still works

    def __str__(self) -> str:
        return f"{self.where}: {'warning: ' if self.warning else ''}{self.message}"


class ConfigError(SyncError):
    """Settings or mappings are wrong; `problems` lists every one found, not just the first."""

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("config", problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConnectorError(SyncError):
    """A connector's call to its tool failed."""

    def __init__(self, connector: str, message: str) -> None:
        self.connector = connector
        super().__init__(f"[{connector}] {message}")


class TransientError(ConnectorError):
    """Worth retrying: a network failure, a 429 or a 5xx."""

    def __init__(
        self,
        connector: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        self.retry_after, self.status = retry_after, status
        super().__init__(connector, message)


class AuthError(ConnectorError):
    """The tool refused the credentials; `setting` names what the admin must fix."""

    def __init__(self, connector: str, message: str, *, setting: str) -> None:
        self.setting = setting
        super().__init__(connector, f"{message} (check {setting})")


class PermanentError(ConnectorError):
    """The tool refused the call for good (a 4xx other than 401/429)."""


class RecordError(SyncError):
    """One record (or one field of it) cannot be mapped or pushed."""

    def __init__(
        self,
        connector: str,
        external_id: str,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.connector, self.external_id, self.field, self.value = (
            connector,
            external_id,
            field,
            value,
        )
        where = f"{connector}:{external_id}" + (f" field {field}" if field else "")
        super().__init__(f"{where}: {message}")


class UnsupportedCapability(SyncError):
    """The connector does not declare the capability the engine asked for."""
