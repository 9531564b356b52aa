"""Settings: a TOML file, overridden by `SYNCD_*` environment variables and a secrets folder.

Secrets (API tokens, webhook secrets) belong in the environment or in files under the
secrets folder (`/run/secrets` in the container), never in the TOML file, e.g.
`SYNCD_CONNECTORS__JIRA__API_TOKEN`. Each connector validates its own table (registry).
Settings are built by `load_settings()` at start-up, never at import time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyncSettings(_Section):
    """When syncs run."""

    poll_interval_seconds: int = Field(300, ge=10, description="incremental poll per connector")
    full_resync_hours: int | None = Field(24, ge=1, description="full re-read; None: never")
    page_size: int | None = Field(None, ge=1, description="override connectors' page size")


class ApiSettings(_Section):
    """The HTTP service: webhooks, admin API, health and metrics."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = Field(None, description="how the trackers reach this service")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="largest request body accepted on any route (413)"
    )
    webhook_rate_limit: str = Field(
        "500/second;20000/minute",
        description="per client address on /webhooks/... (429); empty: no limit",
    )
    admin_rate_limit: str = Field(
        "30/second;1200/minute",
        description="per token name (else client address) on /admin/... (429); empty: no limit",
    )
    admin_tokens: dict[str, SecretStr] = Field(
        default_factory=dict, description='token name -> token, e.g. "mia" (set via env)'
    )
    viewer_tokens: dict[str, SecretStr] = Field(default_factory=dict)

    @field_validator("webhook_rate_limit", "admin_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(
                    f'{value!r} is not a rate limit like "500/second;20000/minute" ({exc})'
                ) from None
        return value


class RollupSettings(_Section):
    """The consolidated producer sheet."""

    connector: str = Field("sheets", description="the Sheets connector that writes it")
    spreadsheet_id: str | None = Field(None, description="None: the connector's spreadsheet")
    reporting_currency: str = "USD"
    rates: dict[str, float] = Field(
        default_factory=dict, description="units of reporting currency per unit, e.g. EUR=1.08"
    )
    capacity_hours_per_week: dict[str, float] = Field(
        default_factory=dict, description="department -> weekly capacity"
    )
    milestones: dict[str, date] = Field(
        default_factory=dict,
        description="milestone name -> due date: the milestones shown, in date order "
        "(empty: every milestone a task names, without dates)",
    )
    departments: list[str] = Field(
        default_factory=list,
        description="departments shown on the load tab, in this order (empty: every one found)",
    )
    person_hours_per_week: float = Field(
        32, gt=0, description="weekly capacity of one person, unless listed below"
    )
    people_hours_per_week: dict[str, float] = Field(
        default_factory=dict, description="person's email -> weekly capacity (part-timers...)"
    )
    overdue_after_days: int = Field(
        0, ge=0, description="an open task is overdue this many days after its due date"
    )
    invoice_overdue_after_days: int = Field(
        0, ge=0, description="an unpaid invoice is overdue this many days after its due date"
    )
    burn_window_days: int = Field(
        14, ge=1, description="burn rate: estimate hours done per day over this many days"
    )
    burnup_weeks: int = Field(12, ge=2, le=104, description="weeks shown on the burn-up chart")
    load_horizon_days: int = Field(
        14, ge=1, description="load counts open work due within this many days (overdue too)"
    )
    overloaded_at: float = Field(
        1.0, gt=0, description="flag a department or person whose load exceeds this share"
    )
    over_budget_at: float = Field(
        1.0, gt=0, description="flag a budget line whose committed spend exceeds this share"
    )
    stale_sync_hours: float = Field(
        24, gt=0, description="a connector with no successful sync for this long is stale"
    )
    pipeline_steps: list[str] = Field(
        default_factory=list,
        description="column order of the pipeline matrix (other steps follow alphabetically)",
    )
    asset_types: list[str] = Field(
        default_factory=list, description="asset types shown on the pipeline tab (empty: all)"
    )
    pipeline_connector: str = Field(
        "shotgrid", description="the connector whose task names are the pipeline steps"
    )
    record_links: dict[str, str] = Field(
        default_factory=dict,
        description="connector -> URL template of a source record ({entity}, {external_id}); "
        '"syncd" -> URL template of a record page ({record_id})',
    )
    tab_prefix: str = Field(
        "syncd · ", min_length=1, description="prefix of the tabs syncd owns and rewrites"
    )
    flush_interval_seconds: float = Field(
        10, ge=1, description="at most one write to the sheet this often (quota: 60/min/user)"
    )


class Settings(BaseSettings):
    """Everything syncd reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCD_", env_nested_delimiter="__", extra="forbid", secrets_dir=None
    )

    store_url: str = Field(
        "sqlite:///var/syncd.sqlite3", description="SQLite file (default) or PostgreSQL URL"
    )
    mappings_dir: Path = Field(
        default_factory=lambda: _mappings_default(), description="folder of mapping files"
    )
    log_level: str = "INFO"
    log_json: bool = Field(True, description="one JSON object per log line")
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="[connectors.<name>] tables, checked per kind",
        repr=False,  # raw tables hold tokens until each connector wraps them in SecretStr
    )
    sync: SyncSettings = Field(default_factory=SyncSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    rollup: RollupSettings = Field(default_factory=RollupSettings)

    @field_validator("store_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("store_url must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Priority: arguments > environment > secrets folder > the TOML file > defaults."""
        del dotenv_settings
        toml = TomlConfigSettingsSource(settings_cls)
        return init_settings, env_settings, file_secret_settings, toml


def _mappings_default() -> Path:
    """`./mappings` when there is one (a checkout, a mounted folder), else the shipped ones."""
    local = Path("mappings")
    return local if local.is_dir() else default_mappings_dir()


def default_mappings_dir() -> Path:
    """The mappings shipped with syncd: `mappings/` of a checkout, or the installed copy."""
    package = Path(__file__).resolve().parent
    installed = package / "default_mappings"
    return installed if installed.is_dir() else package.parent / "mappings"


def load_settings(config: Path | None = None, secrets_dir: Path | None = None) -> Settings:
    """Settings from a TOML file (if given and present), the environment and a secrets folder."""
    if config is not None and not config.is_file():
        raise FileNotFoundError(f"config file {config} does not exist")
    extra: dict[str, Any] = {}
    if config is not None:
        extra["toml_file"] = config
    if secrets_dir is not None and secrets_dir.is_dir():
        extra["secrets_dir"] = secrets_dir

    class _Configured(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, **extra})  # type: ignore[typeddict-item]

    return _Configured()
