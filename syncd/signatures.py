"""Verifying the webhook signatures of the three tools (the sandbox signs with its own code).

- Jira Cloud admin webhooks: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
- ShotGrid webhooks: `X-SG-SIGNATURE: sha1=<hex HMAC-SHA1(secret, body)>`.
- Google Sheets has no native webhook: the Apps Script trigger syncd ships (docs/) signs with
  Standard Webhooks v1: `webhook-id`, `webhook-timestamp`, and
  `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key being
  the base64-decoded bytes of the `whsec_...` secret (byte-compatible with the reference
  `standardwebhooks` library, tested both ways).

Every comparison is constant-time and runs over the raw body bytes, never re-serialised JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

# Standard Webhooks: deliveries older or newer than this are refused as replays.
STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A delivery's signature is missing, malformed, stale or does not match."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _same(expected: str, given: str) -> bool:
    """Constant-time equality that never raises: header text may hold any character.

    `hmac.compare_digest` refuses non-ASCII `str` with a TypeError (a 500 for a forged
    header); comparing the UTF-8 bytes keeps it constant-time and total.
    """
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _hex_mac(secret: str, body: bytes, algorithm: str) -> str:
    return hmac.new(secret.encode(), body, algorithm).hexdigest()


def verify_jira(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise SignatureError unless `X-Hub-Signature` is the body's HMAC-SHA256."""
    _verify_prefixed(headers, body, secret, header="X-Hub-Signature", algorithm="sha256")


def verify_shotgrid(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise SignatureError unless `X-SG-SIGNATURE` is the body's HMAC-SHA1."""
    _verify_prefixed(headers, body, secret, header="X-SG-SIGNATURE", algorithm="sha1")


def _verify_prefixed(
    headers: Mapping[str, str], body: bytes, secret: str, *, header: str, algorithm: str
) -> None:
    value = _header(headers, header)
    if value is None:
        raise SignatureError(f"missing {header} header")
    prefix, sep, given = value.partition("=")
    if not sep or prefix.strip().lower() != algorithm:
        raise SignatureError(f"{header} is not of the form {algorithm}=<hex>")
    expected = _hex_mac(secret, body, algorithm)
    if not _same(expected, given.strip().lower()):
        raise SignatureError(f"{header} does not match the body")


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 bytes after `whsec_`.

    Decoded as the reference `standardwebhooks` library decodes it (padding added,
    characters outside the alphabet skipped), so either side can be the reference one.
    """
    try:
        return base64.b64decode(secret.removeprefix("whsec_") + "==")
    except binascii.Error as exc:
        raise SignatureError("the configured secret is not whsec_<base64>") from exc


def _standard_mac(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = standard_key(secret)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify_standard(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: int = STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
) -> str:
    """Verify a Standard Webhooks delivery; return its `webhook-id` (the dedupe key)."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not a whole number of seconds") from exc
    if abs(now - sent_at) > tolerance:
        raise SignatureError(f"webhook-timestamp is more than {tolerance} s from now (replay?)")
    expected = _standard_mac(secret, msg_id, timestamp, body)
    # Several signatures may be present during a secret rotation: any match is enough.
    for candidate in signatures.split():
        version, _, mac = candidate.partition(",")
        if version == "v1" and _same(expected, mac):
            return msg_id
    raise SignatureError("webhook-signature does not match the body")
