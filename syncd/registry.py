"""Find connector plugins through the `syncd.connectors` entry-point group, and build them.

Built-in and third-party connectors take the same path: a package declares
`[project.entry-points."syncd.connectors"] mytool = "mypkg.connector:MyToolConnector"`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from syncd.errors import ConfigError, Problem

log = logging.getLogger(__name__)

GROUP = "syncd.connectors"


def connector_classes() -> dict[str, Any]:
    """Every installed connector class by kind; a plugin that fails to import is skipped."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the others
            log.warning("connector plugin %r (%s) failed to load: %s", ep.name, ep.value, exc)
    return found


def read_only_paths() -> dict[str, dict[str, frozenset[str]]]:
    """Per connector kind and entity, the paths its tool never lets anyone write."""
    return {
        kind: {entity: frozenset(paths) for entity, paths in cls.read_only_paths.items()}
        for kind, cls in connector_classes().items()
        if hasattr(cls, "read_only_paths")
    }


def build_connector(name: str, table: Mapping[str, Any], **deps: Any) -> Any:
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
