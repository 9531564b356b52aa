"""Logging set-up: JSON lines (or plain text), and credentials redacted from every record.

A JSON line holds `time`, `level`, `logger` and `message`, every `extra=` field of the call,
and `error` (the traceback) when there is one. The redaction runs on the record before any
formatter sees it: the message, each `extra=` field's text and the traceback.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

# Header values and URL parameters that carry credentials, whatever the secret is.
_PATTERNS = [
    re.compile(
        r"(?i)(authorization|x-hub-signature|x-sg-signature|webhook-signature)"
        r"(['\"]?\s*[:=]\s*['\"]?)([^'\",\s}]+(?:\s[^'\",\s}]+)?)"
    ),
    re.compile(
        r"(?i)(api_token|access_token|refresh_token|client_secret|password|script_key"
        r"|private_key)(['\"]?\s*[:=]\s*['\"]?)([^'\"&,\s}]+)"
    ),
]
REDACTED = "**********"

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(RESERVED_ATTRS) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Replaces known secret values and credential-shaped fields in every log record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return text

    def _redact_value(self, value: Any) -> Any:
        """Text redacted, inside lists and dicts too; other values as they are."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self._redact_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_value(item) for item in value]
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted; also redact `extra=` fields and a traceback."""
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRS:
                setattr(record, name, self._redact_value(value))
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter with syncd's field names: one JSON object per line."""

    def __init__(self) -> None:
        super().__init__(
            "{message}{name}{levelname}",
            style="{",
            rename_fields={"name": "logger", "levelname": "level", "exc_info": "error"},
            # uvicorn adds the message again with terminal colours: not a field of its own.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """The time first (ISO 8601, UTC), then the library's fields; the level in lower case."""
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat()
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()


def configure_logging(level: str, *, as_json: bool, secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr, redacted, as JSON lines or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
