"""Logging set-up: JSON lines (or plain text), and credentials redacted from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

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

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted; also redact a traceback."""
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


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
