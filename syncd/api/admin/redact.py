"""Keep configured secrets out of admin API answers.

Text that comes from elsewhere (a tool's error message, a failed run's message) is shown to
people; a connector that put a credential into an error text must not leak it here. Admin
tokens and connector secrets are replaced, as the log filter does for log lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from syncd.logs import RedactingFilter
from syncd.settings import Settings

_SECRET_WORDS = ("token", "secret", "key", "password", "credential")


def _secret_values(table: Mapping[str, Any], secret_parent: bool = False) -> Iterator[str]:
    for key, value in table.items():
        secret = secret_parent or any(word in key.lower() for word in _SECRET_WORDS)
        if isinstance(value, Mapping):
            yield from _secret_values(value, secret)
        elif isinstance(value, str) and secret:
            yield value


def configured_secrets(settings: Settings) -> list[str]:
    """Every admin/viewer token and every secret-looking value of `[connectors.*]`."""
    values = [t.get_secret_value() for t in settings.api.admin_tokens.values()]
    values += [t.get_secret_value() for t in settings.api.viewer_tokens.values()]
    for table in settings.connectors.values():
        values += _secret_values(table)
    return values


class Redactor:
    """Replaces configured secrets (and credential-shaped text) in strings."""

    def __init__(self, settings: Settings) -> None:
        self._filter = RedactingFilter(configured_secrets(settings))

    def __call__(self, text: str | None) -> str | None:
        """The text with every secret replaced (None stays None)."""
        return None if text is None else self._filter.redact(text)
