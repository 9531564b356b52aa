"""Settings: the example config validates; env overrides the file; secrets stay masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_config_validates() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.store_url.startswith("sqlite:")
    assert set(settings.connectors) == {"jira", "shotgrid", "sheets"}
    assert settings.rollup.rates["EUR"] == 1.08


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_API__PORT", "9090")
    monkeypatch.setenv("SYNCD_CONNECTORS__JIRA__API_TOKEN", "tok-from-env")
    monkeypatch.setenv("SYNCD_API__ADMIN_TOKENS__MIA", "very-secret-admin-token")
    settings = load_settings(EXAMPLE)
    assert settings.api.port == 9090
    assert settings.connectors["jira"]["api_token"] == "tok-from-env"
    assert settings.connectors["jira"]["projects"] == ["HRB"]  # merged, not replaced
    assert "very-secret-admin-token" not in repr(settings)
    assert "tok-from-env" not in repr(settings)


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('store_ulr = "sqlite:///x"\n')
    with pytest.raises(ValidationError, match="store_ulr"):
        load_settings(config)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings(tmp_path / "nope.toml")
