"""Dotted paths into a source record as its connector presents it.

`fields.summary`, `fields."Story point estimate"` (quote a segment that holds dots or
spaces), `task_assignees.0.id` (a number indexes a list). A path may also be given as a list
of segments in TOML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final


class _Missing:
    """The path leads nowhere: the source did not send this field (not the same as null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Path = tuple[str, ...]


def parse_path(spec: str | Sequence[str]) -> Path:
    """Split a path spec into segments; raises ValueError on an empty or unbalanced one."""
    segments = _split(spec) if isinstance(spec, str) else tuple(spec)
    if not segments or any(not s for s in segments):
        raise ValueError(f"path {spec!r} has an empty segment")
    return segments


def _split(spec: str) -> Path:
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    for char in spec:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError(f"path {spec!r} has an unclosed quote")
    segments.append("".join(current))
    return tuple(segments)


def format_path(path: Path) -> str:
    """The dotted form of a path, quoting segments that need it."""
    return ".".join(f'"{s}"' if ("." in s or " " in s) else s for s in path)


def get_path(data: Any, path: Path) -> Any:
    """The value at `path`, or MISSING when a segment is absent. A null on the way is None."""
    current = data
    for segment in path:
        if current is None:
            return None
        if isinstance(current, Mapping):
            if segment not in current:
                return MISSING
            current = current[segment]
        elif isinstance(current, Sequence) and not isinstance(current, str):
            if not segment.isdigit():
                return MISSING
            index = int(segment)
            if index >= len(current):
                return None
            current = current[index]
        else:
            return MISSING
    return current


def set_path(data: dict[str, Any], path: Path, value: Any) -> None:
    """Set `value` at `path`, creating nested dicts on the way."""
    current = data
    for segment in path[:-1]:
        nxt = current.get(segment)
        if not isinstance(nxt, dict):
            nxt = {}
            current[segment] = nxt
        current = nxt
    current[path[-1]] = value
