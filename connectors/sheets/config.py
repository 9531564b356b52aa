"""`[connectors.<name>]` for Google Sheets: the spreadsheet, the service account, the tabs."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from syncd.connector import ConnectorConfig
from syncd.secrets import key_texts

# The shortest Standard Webhooks key accepted (the spec's secrets are 24 to 64 bytes).
MIN_WEBHOOK_KEY_BYTES = 16

MAX_BATCH_SIZE = 500  # rows per yielded batch (the engine stores a batch in one transaction)
DEFAULT_KEYS = {"Invoices": "Invoice #", "Budget": "Budget Line"}
DEFAULT_WRITE_BACK = ("Synced At", "Sync Status")
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)  # no Drive: we open by key
_LOOPBACK_NAMES = frozenset({"localhost"})


class SheetsConfig(ConnectorConfig):
    """One spreadsheet read and written as one Google service account."""

    # Errors must never echo the service-account JSON back (it holds a private key).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    kind: Literal["sheets"] = "sheets"
    spreadsheet_id: str = Field(min_length=1, description="the long id in the spreadsheet's URL")
    service_account_file: Path | None = Field(
        None, description="the service account's JSON key file (this or service_account_info)"
    )
    service_account_info: SecretStr | None = Field(
        None, description="the JSON key itself, e.g. from the environment (or the file above)"
    )
    api_base_url: str | None = Field(
        None, description="the Sheets sandbox on loopback; None talks to Google"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="the Apps Script trigger's secret; deliveries are refused until set"
    )
    header_row: int = Field(1, ge=1, description="the row holding the column names")
    # Google's per-user quotas: a service account is one user, so one syncd gets 60 + 60.
    read_quota_per_minute: float = Field(60.0, gt=0)
    write_quota_per_minute: float = Field(60.0, gt=0)
    # Tab title -> the header of the column that identifies a row (the mapping's `key`).
    keys: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_KEYS))
    # Tab title -> the only columns syncd may write; tabs not listed get DEFAULT_WRITE_BACK.
    write_back: dict[str, list[str]] = Field(default_factory=dict)
    batch_size: int = Field(MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)
    # Cell edits naming at most this many rows are read row by row (with the header and
    # the key column); more, or any structural change, and the whole tab is read.
    edited_rows_limit: int = Field(200, ge=0, le=5_000)
    timeout_seconds: float = Field(60.0, gt=0)

    @field_validator("keys")
    @classmethod
    def _keys_named(cls, keys: dict[str, str]) -> dict[str, str]:
        if not keys:
            raise ValueError("name at least one tab and its key column")
        for tab, header in keys.items():
            if not tab.strip() or not header.strip():
                raise ValueError(f"tab {tab!r}: tab titles and key headers must not be blank")
        return keys

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        # Standard Webhooks keys the HMAC with the base64 bytes after `whsec_`: a secret of
        # another shape would be keyed differently by the Apps Script and by syncd.
        if secret is None:
            return None
        text = secret.get_secret_value()
        body = text.removeprefix("whsec_")
        try:
            key = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not text.startswith("whsec_") or len(key) < MIN_WEBHOOK_KEY_BYTES:
            raise ValueError(
                f"must be whsec_ followed by the base64 of at least {MIN_WEBHOOK_KEY_BYTES} "
                'random bytes (Standard Webhooks), e.g. python -c "import base64, os; '
                "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
            )
        return secret

    @field_validator("service_account_info")
    @classmethod
    def _info_is_a_key(cls, info: SecretStr | None) -> SecretStr | None:
        if info is not None:
            parse_service_account(info.get_secret_value())
        return info

    @field_validator("api_base_url")
    @classmethod
    def _loopback_only(cls, url: str | None) -> str | None:
        # The sandbox client sends the token exchange (a signed assertion) to this URL too:
        # never let a credential leave the machine because of a typo here.
        if url is None:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not _is_loopback(host):
            raise ValueError("api_base_url is for the local sandbox: http://127.0.0.1:<port>")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _one_credential(self) -> SheetsConfig:
        if (self.service_account_file is None) == (self.service_account_info is None):
            raise ValueError("set exactly one of service_account_file and service_account_info")
        for tab, columns in self.write_back.items():
            key = self.keys.get(tab)
            if key is not None and key in columns:
                raise ValueError(f"write_back of {tab!r} names its key column {key!r}")
        return self

    @property
    def credential_setting(self) -> str:
        """The key of the credential in use (for messages naming what to fix)."""
        return "service_account_file" if self.service_account_file else "service_account_info"

    def secret_values(self) -> list[str]:
        """The key's parts, from `service_account_info` or read from the key file."""
        found = super().secret_values()
        if self.service_account_file is not None:
            # A missing file is reported when the connector starts; it then holds nothing.
            with contextlib.suppress(OSError):
                found += key_texts(self.service_account_file.read_text(encoding="utf-8"))
        return found

    def write_back_columns(self, tab: str) -> list[str]:
        """The columns syncd may write in `tab`."""
        return list(self.write_back.get(tab, DEFAULT_WRITE_BACK))


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_service_account(text: str) -> dict[str, Any]:
    """The key JSON as a dict; ValueError (never quoting the text) unless it looks like one."""
    try:
        info = json.loads(text)
    except ValueError:
        raise ValueError("the service-account key is not valid JSON") from None
    if not isinstance(info, dict):
        raise ValueError("the service-account key is not a JSON object")
    missing = [k for k in ("client_email", "private_key") if not isinstance(info.get(k), str)]
    if missing:
        raise ValueError(f"the service-account key has no {' or '.join(missing)}")
    return info
