"""Signature checks refuse anything odd with SignatureError, never another exception.

A forged header with a non-ASCII byte once made `hmac.compare_digest` raise TypeError, which
the webhook routes answered with a 500 before any credential was checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st

from syncd.signatures import SignatureError, verify_jira, verify_shotgrid, verify_standard
from syncd_sandbox.signing import sign_jira, sign_shotgrid, sign_standard

SECRET = "s3cret"
BODY = b'{"webhookEvent": "jira:issue_updated"}'
NOW = 1_765_000_000

# Header text as starlette hands it over: the raw bytes decoded as latin-1.
header_text = st.binary(max_size=80).map(lambda raw: raw.decode("latin-1"))


@pytest.mark.parametrize(
    ("verify", "header", "prefix"),
    [(verify_jira, "X-Hub-Signature", "sha256="), (verify_shotgrid, "X-SG-SIGNATURE", "sha1=")],
)
def test_a_non_ascii_prefixed_signature_is_refused_not_raised(
    verify: object, header: str, prefix: str
) -> None:
    assert callable(verify)
    with pytest.raises(SignatureError):
        verify({header: f"{prefix}\xe9"}, BODY, SECRET)


def test_a_non_ascii_standard_signature_is_refused_not_raised() -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v1,\xe9"}
    with pytest.raises(SignatureError):
        verify_standard(headers, BODY, SECRET, now=NOW)


@given(value=header_text)
def test_any_header_text_is_either_valid_or_a_signature_error(value: str) -> None:
    for verify, header in ((verify_jira, "X-Hub-Signature"), (verify_shotgrid, "X-SG-SIGNATURE")):
        with pytest.raises(SignatureError):
            verify({header: value}, BODY, SECRET)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(NOW),
            "webhook-signature": "v1,x",
        }
        headers[name] = value
        with pytest.raises(SignatureError):
            verify_standard(headers, BODY, SECRET, now=NOW)


def test_signatures_made_by_the_tools_are_accepted() -> None:
    verify_jira(sign_jira(BODY, SECRET), BODY, SECRET)
    verify_shotgrid(sign_shotgrid(BODY, SECRET), BODY, SECRET)
    now = int(time.time())
    headers = sign_standard(BODY, SECRET, msg_id="msg_2", timestamp=now)
    assert verify_standard(headers, BODY, SECRET, now=now) == "msg_2"


# -- Standard Webhooks against the reference library, both ways ----------------------------

REFERENCE_SECRET = "whsec_" + base64.b64encode(b"a key of thirty-two bytes, exact").decode()


def test_syncd_accepts_what_the_reference_library_signs() -> None:
    reference = standardwebhooks.Webhook(REFERENCE_SECRET)
    now = int(time.time())
    signature = reference.sign("msg_ref", datetime.fromtimestamp(now, UTC), BODY)
    headers = {
        "webhook-id": "msg_ref",
        "webhook-timestamp": str(now),
        "webhook-signature": signature,
    }
    assert verify_standard(headers, BODY, REFERENCE_SECRET, now=now) == "msg_ref"


def test_the_reference_library_accepts_what_the_sandbox_trigger_signs() -> None:
    now = int(time.time())
    headers = sign_standard(BODY, REFERENCE_SECRET, msg_id="msg_sbx", timestamp=now)
    standardwebhooks.Webhook(REFERENCE_SECRET).verify(BODY, headers)  # raises if not


def test_a_signature_keyed_with_the_secret_text_is_refused() -> None:
    # The old, non-interoperable scheme: HMAC keyed with the secret's characters.
    now = int(time.time())
    key = REFERENCE_SECRET.removeprefix("whsec_").encode()
    mac = hmac.new(key, f"msg_old.{now}.".encode() + BODY, hashlib.sha256).digest()
    headers = {
        "webhook-id": "msg_old",
        "webhook-timestamp": str(now),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    with pytest.raises(SignatureError):
        verify_standard(headers, BODY, REFERENCE_SECRET, now=now)
