"""Jira Cloud sandbox: a local emulator of the REST API subset syncd uses, with webhooks."""

from syncd_sandbox.jira.sandbox import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_API_TOKEN,
    DEFAULT_EMAIL,
    JiraSandbox,
)

__all__ = ["DEFAULT_ACCOUNT_ID", "DEFAULT_API_TOKEN", "DEFAULT_EMAIL", "JiraSandbox"]
