"""The registry: plugins found by entry point, broken ones skipped, tables validated by kind."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import pytest

from connectors.memory import MemoryConfig, MemoryConnector
from syncd.errors import ConfigError
from syncd.registry import GROUP, build_connector, connector_classes


class NotAConnector:
    """Has a kind, and nothing else a registry needs."""

    kind = "half"


def _plugin(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def test_a_broken_or_incomplete_plugin_is_skipped_and_the_others_load(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="syncd.registry")
    found = connector_classes(
        [
            _plugin("gone", "no_such_package.connector:Gone"),
            _plugin("half", f"{__name__}:NotAConnector"),
            _plugin("memory", "connectors.memory:MemoryConnector"),
        ]
    )
    assert list(found) == ["memory"]
    assert found["memory"].config_model is MemoryConfig
    messages = [r.getMessage() for r in caplog.records]
    assert any("'gone'" in m and "failed to load" in m for m in messages)
    [half] = [m for m in messages if "'half'" in m]
    assert "not a connector class" in half
    assert "capabilities, read_only_paths, config_model, from_config" in half


def test_a_table_is_validated_by_its_kinds_model_and_problems_name_the_table() -> None:
    connector = build_connector("scratch", {"kind": "memory", "page_size": 5})
    assert isinstance(connector, MemoryConnector)
    assert (connector.name, connector.config.page_size) == ("scratch", 5)
    with pytest.raises(ConfigError) as caught:
        build_connector("scratch", {"kind": "memory", "page_size": "many", "colour": "red"})
    assert sorted(p.where for p in caught.value.problems) == [
        "[connectors.scratch] colour",
        "[connectors.scratch] page_size",
    ]
    with pytest.raises(ConfigError) as caught:
        build_connector("scratch", {"kind": "nothing"})
    [problem] = caught.value.problems
    assert problem.where == "[connectors.scratch] kind"
    assert "no connector plugin 'nothing'" in problem.message
