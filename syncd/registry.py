"""Find connector plugins through the `syncd.connectors` entry-point group, and build them.

Built-in and third-party connectors take the same path: a package declares
`[project.entry-points."syncd.connectors"] mytool = "mypkg.connector:MyToolConnector"`,
where the class follows `syncd.connector.ConnectorClass`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from syncd.connector import Connector, ConnectorClass, ConnectorConfig
from syncd.errors import ConfigError, Problem

log = logging.getLogger(__name__)

GROUP = "syncd.connectors"

# What the registry reads on a plugin's class before it builds one (`ConnectorClass`).
_CLASS_SIDE = ("kind", "capabilities", "read_only_paths", "config_model", "from_config")


def connector_classes(
    plugins: Iterable[EntryPoint] | None = None,
) -> dict[str, ConnectorClass[ConnectorConfig]]:
    """Every installed connector class by kind (of `plugins` when given, instead of the
    installed ones); a plugin that fails to load, or is not a connector class, is skipped."""
    found: dict[str, ConnectorClass[ConnectorConfig]] = {}
    for ep in entry_points(group=GROUP) if plugins is None else plugins:
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the others
            log.warning("connector plugin %r (%s) failed to load: %s", ep.name, ep.value, exc)
            continue
        missing = _missing_class_side(loaded)
        if missing:
            log.warning(
                "connector plugin %r (%s) is not a connector class: it has no %s",
                ep.name,
                ep.value,
                ", ".join(missing),
            )
            continue
        found[ep.name] = loaded
    return found


def _missing_class_side(loaded: object) -> list[str]:
    """The parts of `ConnectorClass` that `loaded` lacks (a config model must be a model)."""
    missing = [name for name in _CLASS_SIDE if not hasattr(loaded, name)]
    model = getattr(loaded, "config_model", None)
    if "config_model" not in missing and not (
        isinstance(model, type) and issubclass(model, ConnectorConfig)
    ):
        missing.append("config_model subclassing syncd.connector.ConnectorConfig")
    return missing


def read_only_paths() -> dict[str, dict[str, frozenset[str]]]:
    """Per connector kind and entity, the paths its tool never lets anyone write."""
    return {
        kind: {entity: frozenset(paths) for entity, paths in cls.read_only_paths.items()}
        for kind, cls in connector_classes().items()
    }


def build_connector(name: str, table: Mapping[str, Any], **deps: object) -> Connector:
    """Build the connector configured in `[connectors.<name>]`; ConfigError names the table."""
    kind = table.get("kind", name)
    classes = connector_classes()
    if kind not in classes:
        raise ConfigError(
            [
                Problem(
                    f"[connectors.{name}] kind",
                    f"no connector plugin {kind!r}; installed: {', '.join(sorted(classes))}",
                )
            ]
        )
    cls = classes[kind]
    try:
        config = cls.config_model.model_validate({"kind": kind, **table})
    except ValidationError as exc:
        raise ConfigError(
            [
                Problem(f"[connectors.{name}] {'.'.join(str(p) for p in e['loc'])}", e["msg"])
                for e in exc.errors()
            ]
        ) from None
    return cls.from_config(name, config, **deps)
