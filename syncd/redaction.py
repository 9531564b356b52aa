"""Keep configured secrets out of logs and admin API answers.

Text that comes from elsewhere (a tool's error message, a failed run's message) is shown to
people and logged; a connector that put a credential into an error text must not leak it.
The secrets are found by type (`syncd.secrets`): every `SecretStr` of the settings and of
each connector's validated config, the parts of any key they hold, and what a connector adds
(`ConnectorConfig.secret_values`, e.g. the key file it reads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from syncd.logs import RedactingFilter
from syncd.registry import connector_classes
from syncd.secrets import key_texts, secret_texts, unique
from syncd.settings import Settings


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold, longest first."""
    found = list(secret_texts(settings.api))
    classes = connector_classes()
    for name, table in settings.connectors.items():
        kind = table.get("kind", name)
        cls = classes.get(kind)
        try:
            if cls is None:
                raise LookupError(kind)
            config = cls.config_model.model_validate({"kind": kind, **table})
        except (LookupError, ValidationError):
            # A table syncd cannot read never runs (start-up refuses it), but its values may
            # still be quoted before then: fall back to the values of secret-sounding keys.
            found += _secret_sounding(table)
            continue
        found += config.secret_values()
    return unique(found)


_SECRET_WORDS = ("token", "secret", "key", "password", "credential", "service_account")


def _secret_sounding(table: Mapping[str, Any], inside: bool = False) -> Iterator[str]:
    for key, value in table.items():
        secret = inside or any(word in str(key).lower() for word in _SECRET_WORDS)
        if isinstance(value, Mapping):
            yield from _secret_sounding(value, secret)
        elif isinstance(value, str) and secret:
            yield from key_texts(value)


class Redactor:
    """Replaces configured secrets (and credential-shaped text) in strings."""

    def __init__(self, settings: Settings) -> None:
        self._filter = RedactingFilter(configured_secrets(settings))

    def __call__(self, text: str | None) -> str | None:
        """The text with every secret replaced (None stays None)."""
        return None if text is None else self._filter.redact(text)
