"""`[connectors.<name>]` for Jira Cloud: the site, the account syncd works as, the projects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, SecretStr, StringConstraints, model_validator

from syncd.connector import ConnectorConfig
from syncd.egress import check_base_url

# search/jql serves at most 100 issues a page when fields are asked for (5000 for ids only).
MAX_PAGE_SIZE = 100
# A project key: a letter, then letters, digits or underscores (Jira's default key pattern).
ProjectKey = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]


class JiraConfig(ConnectorConfig):
    """How to reach one Jira Cloud site as one account, and which projects to sync."""

    kind: Literal["jira"] = "jira"
    base_url: HttpUrl = Field(description="the site, e.g. https://your-studio.atlassian.net")
    email: str = Field(min_length=3, description="the email of the account syncd works as")
    api_token: SecretStr = Field(description="an API token of that account")
    # Keys only (they are written into JQL): "HRB", not the project's name.
    projects: list[ProjectKey] = Field(
        min_length=1, description="keys of the projects whose issues are synced"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="the admin webhook's secret; deliveries are refused until it is set"
    )
    # SSRF: base_url must be a public https host unless this says it is a sandbox or lab.
    allow_private_addresses: bool = Field(
        False, description="allow http and loopback/private hosts (the sandbox sets it)"
    )
    # Jira Cloud publishes no fixed quota for API-token traffic; its burst limits count
    # per endpoint and method (~10 requests a second each), and 429s are normal beyond that.
    # This rate applies to each endpoint on its own (searches, issue edits, transitions...).
    rate_limit_per_minute: float = Field(600.0, gt=0)
    # Issue edits in flight at once (Jira takes one issue per call); the rate limit still
    # paces them.
    write_concurrency: int = Field(4, ge=1, le=16)
    # JQL dates are minute-granular: incremental pulls re-read this many minutes before the
    # cursor (an edit committed in the cursor's minute, or indexed late, is not missed).
    overlap_minutes: int = Field(2, ge=1)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    timeout_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _public_site(self) -> JiraConfig:
        check_base_url(str(self.base_url), allow_private=self.allow_private_addresses)
        return self

    def site(self) -> str:
        """The site's base URL without a trailing slash."""
        return str(self.base_url).rstrip("/")
