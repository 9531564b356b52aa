"""`[connectors.<name>]` for ShotGrid (Flow Production Tracking): site, API script, project."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, model_validator

from syncd.connector import ConnectorConfig
from syncd.egress import check_base_url

MAX_PAGE_SIZE = 500  # the REST API's largest `page[size]`


class ShotGridConfig(ConnectorConfig):
    """How to reach one ShotGrid site as an API script, and which project to sync."""

    kind: Literal["shotgrid"] = "shotgrid"
    base_url: HttpUrl = Field(description="the site, e.g. https://studio.shotgrid.autodesk.com")
    script_name: str = Field(min_length=1, description="the API script's name (Admin > Scripts)")
    script_key: SecretStr = Field(description="the API script's application key")
    project_id: int = Field(ge=1, description="the Project whose records are synced")
    api_user_id: int | None = Field(
        None, ge=1, description="the script's ApiUser id; found from the token when unset"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="the webhooks' secret token; deliveries are refused until it is set"
    )
    # SSRF: base_url must be a public https host unless this says it is a sandbox or lab.
    allow_private_addresses: bool = Field(
        False, description="allow http and loopback/private hosts (the sandbox sets it)"
    )
    # Entity types whose webhook deliveries matter (the mapping file's entities); others
    # are ignored, not errors.
    entities: list[str] = Field(default_factory=lambda: ["Task", "Asset", "Shot"], min_length=1)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    # Update requests per `_batch` call. The site runs a batch as one transaction; ShotGrid
    # documents no maximum, so keep transactions (and request bodies) moderate.
    batch_size: int = Field(100, ge=1, le=500)
    # ShotGrid publishes no REST quota; sites throttle (429, slow answers) under load.
    rate_limit_per_minute: float = Field(300.0, gt=0)
    # Incremental pulls re-read this many seconds before the cursor: `updated_at` has one
    # second precision, and a write committed in the cursor's second may be seen late.
    overlap_seconds: int = Field(5, ge=0)
    # Re-authenticate this long before the access token expires (at most half its lifetime).
    token_margin_seconds: float = Field(60.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _public_site(self) -> ShotGridConfig:
        check_base_url(str(self.base_url), allow_private=self.allow_private_addresses)
        return self

    def api_base(self) -> str:
        """The REST API root: `<site>/api/v1`."""
        return f"{str(self.base_url).rstrip('/')}/api/v1"
