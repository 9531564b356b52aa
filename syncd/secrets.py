"""What counts as a secret: found by type, not by the name of a setting.

Every `SecretStr` in the settings and in each connector's validated config is a secret, and
so is every part of a key it holds: a Google service-account key is JSON whose
`private_key` may be quoted by an error message on its own, JSON-escaped, or one PEM line at a
time. Connectors whose secrets live outside their table (a key file) add them through
`ConnectorConfig.secret_values`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

# Members of a key JSON that are credentials themselves (Google's service-account keys,
# OAuth client files); other members (client_email, token_uri) are identifiers.
_KEY_MEMBERS = ("private_key", "private_key_id", "client_secret", "refresh_token")
_SHORTEST_PEM_LINE = 16


def secret_texts(value: object) -> Iterator[str]:
    """Every secret string inside `value`: SecretStr/SecretBytes anywhere in models,
    mappings and sequences, with the parts of any key JSON they hold."""
    if isinstance(value, SecretStr):
        yield from key_texts(value.get_secret_value())
    elif isinstance(value, SecretBytes):
        yield from key_texts(value.get_secret_value().decode("utf-8", "replace"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_texts(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secret_texts(item)


def key_texts(text: str) -> Iterator[str]:
    """A secret's text, and when it is a key JSON, each credential in it in every form an
    error message could quote it."""
    yield text
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping):
        for member in _KEY_MEMBERS:
            part = parsed.get(member)
            if isinstance(part, str) and part:
                yield part
                yield json.dumps(part)[1:-1]  # as it appears inside JSON text
                yield from _pem_lines(part)
    yield from _pem_lines(text)


def _pem_lines(text: str) -> Iterator[str]:
    """The base64 body lines of a PEM block (a key may be quoted one line at a time)."""
    if "-----BEGIN" not in text:
        return
    for line in text.replace("\\n", "\n").splitlines():
        line = line.strip()
        if len(line) >= _SHORTEST_PEM_LINE and not line.startswith("-----"):
            yield line


def unique(texts: Iterable[str]) -> list[str]:
    """Distinct non-empty texts, longest first (so a longer secret is replaced whole)."""
    return sorted({t for t in texts if t}, key=len, reverse=True)
