"""How each emulated tool signs the webhooks it sends.

Written apart from syncd's verifier on purpose: an emulator that borrowed the service's own
code would agree with it by construction and prove nothing about interoperability.

- Jira Cloud (admin webhooks with a secret): `X-Hub-Signature: sha256=<hex HMAC-SHA256>`.
- ShotGrid (webhooks with a secret token): `X-SG-SIGNATURE: sha1=<hex HMAC-SHA1>`.
- The Apps Script trigger on a sheet: Standard Webhooks v1 headers, `webhook-signature:
  v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign_jira(body: bytes, secret: str) -> dict[str, str]:
    """The headers Jira Cloud adds to a delivery of a webhook that has a secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}"}


def sign_shotgrid(body: bytes, secret: str) -> dict[str, str]:
    """The headers ShotGrid adds to a delivery of a webhook that has a secret token."""
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"X-SG-SIGNATURE": f"sha1={digest}"}


def sign_standard(body: bytes, secret: str, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """Standard Webhooks v1 headers, as the shipped Apps Script trigger sends them."""
    # The key is the base64-decoded secret after `whsec_` (the Standard Webhooks spec).
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{mac}",
    }
