"""Secrets are found by type: a Google service-account key is redacted in every form.

Before, the redactor looked for setting names ("token", "secret", "key", "password"), so
`service_account_info` (a key JSON) was returned in clear by status and error texts.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syncd.logs import configure_logging
from syncd.redaction import Redactor, configured_secrets
from syncd.settings import Settings

SHEETS_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


def _key_json() -> tuple[str, str]:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    info = {
        "type": "service_account",
        "project_id": "studio-sync",
        "private_key_id": "5f1c0e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
        "private_key": pem,
        "client_email": "syncd@studio-sync.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return json.dumps(info), pem


def _settings(sheets: dict[str, object]) -> Settings:
    return Settings(
        connectors={
            "budget": {
                "kind": "sheets",
                "spreadsheet_id": "1AbCdEf",
                "webhook_secret": SHEETS_SECRET,
                **sheets,
            },
            "tracker": {
                "kind": "jira",
                "base_url": "https://studio.atlassian.net",
                "email": "bot@studio.example",
                "api_token": "ATATT3xFfGF0-jira-api-token-value",
                "projects": ["HRB"],
            },
        },
        api={"admin_tokens": {"mia": "admin-token-of-twenty-four+"}},
    )


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s[:12] for s in secrets if s in text]


def _forms(info: str, pem: str) -> list[str]:
    """How an error text could quote the key: whole, raw, JSON-escaped, one line of it."""
    lines = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
    return [info, pem, json.dumps(pem)[1:-1], lines[3], lines[-1]]


@pytest.mark.parametrize("where", ["info", "file"])
def test_the_service_account_key_is_redacted_in_every_form(where: str, tmp_path: Path) -> None:
    info, pem = _key_json()
    if where == "info":
        settings = _settings({"service_account_info": info})
    else:
        key_file = tmp_path / "key.json"
        key_file.write_text(info)
        settings = _settings({"service_account_file": str(key_file)})
    redact = Redactor(settings)
    secrets = [*_forms(info, pem), SHEETS_SECRET, "ATATT3xFfGF0-jira-api-token-value"]
    for secret in secrets:
        shown = redact(f"google-auth said: could not load {secret!s} (status 400)")
        assert shown is not None and _leaks(shown, secrets) == [], secret[:20]
    # Identifiers are not secrets: the account's address stays readable.
    assert "syncd@studio-sync" in (redact("as syncd@studio-sync.iam.gserviceaccount.com") or "")


def test_the_log_filter_uses_the_same_secrets(capfd: pytest.CaptureFixture[str]) -> None:
    info, pem = _key_json()
    settings = _settings({"service_account_info": info})
    configure_logging("INFO", as_json=True, secrets=configured_secrets(settings))
    try:
        log = logging.getLogger("syncd.test.redaction")
        for form in _forms(info, pem):
            log.error("token exchange failed with %s", form)
        try:
            raise ValueError(pem)
        except ValueError:
            log.exception("key rejected")
    finally:
        logging.getLogger().handlers.clear()
    err = capfd.readouterr().err
    assert err.count("\n") >= 6
    assert _leaks(err, _forms(info, pem)) == []


def test_an_unreadable_connector_table_still_hides_its_secret_sounding_values() -> None:
    settings = Settings(
        connectors={"odd": {"kind": "no-such-plugin", "api_token": "plain-token-value-1234"}}
    )
    shown = Redactor(settings)("request with plain-token-value-1234 failed") or ""
    assert "plain-token-value-1234" not in shown
