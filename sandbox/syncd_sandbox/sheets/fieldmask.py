"""FieldMasks: `fields=` partial responses and the `fields` of update requests.

Syntax (Google's): comma-separated paths, `.` or `/` between names, parentheses for
sub-selections, `*` for everything: `sheets(properties(title,sheetId)),spreadsheetId`,
`userEnteredFormat(textFormat,backgroundColor)`, `gridProperties.frozenRowCount`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

Mask = dict[str, "Mask"]  # an empty mask selects the whole value
_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_@]*|\*")


class FieldMaskError(ValueError):
    """The mask text does not parse."""


def parse_mask(text: str) -> Mask:
    """Parse a FieldMask into a tree of names."""
    parser = _MaskParser(text.replace(" ", ""))
    mask = parser.items()
    if parser.pos != len(parser.text):
        raise FieldMaskError(f"Invalid field selection {text}")
    return mask


class _MaskParser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def items(self) -> Mask:
        mask: Mask = {}
        while True:
            path = self.path()
            sub: Mask = {}
            if self.pos < len(self.text) and self.text[self.pos] == "(":
                self.pos += 1
                sub = self.items()
                if self.pos >= len(self.text) or self.text[self.pos] != ")":
                    raise FieldMaskError(f"Invalid field selection {self.text}")
                self.pos += 1
            _merge(mask, path, sub)
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                continue
            return mask

    def path(self) -> list[str]:
        names = []
        while True:
            match = _NAME.match(self.text, self.pos)
            if not match:
                raise FieldMaskError(f"Invalid field selection {self.text}")
            names.append(match.group(0))
            self.pos = match.end()
            if self.pos < len(self.text) and self.text[self.pos] in "./":
                self.pos += 1
                continue
            return names


def _merge(mask: Mask, path: list[str], sub: Mask) -> None:
    node = mask
    for i, name in enumerate(path):
        last = i == len(path) - 1
        if name in node and not node[name] and not last:
            return  # already selected whole
        if last:
            if name in node and not node[name]:
                return
            if not sub:
                node[name] = {}
            else:
                target = node.setdefault(name, {})
                for key, value in sub.items():
                    _merge(target, [key], value)
            return
        node = node.setdefault(name, {})


def select(value: Any, mask: Mask) -> Any:
    """Keep only the masked fields of a response (lists are filtered element by element)."""
    if not mask or ("*" in mask and len(mask) == 1 and not mask["*"]):
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in mask.items():
        if key == "*":
            for k, v in value.items():
                out[k] = select(v, sub)
        elif key in value:
            out[key] = select(value[key], sub)
    return out


def apply_mask(target: dict[str, Any], source: dict[str, Any], mask: Mask) -> dict[str, Any]:
    """Copy the masked fields from `source` onto a copy of `target`; absent ones are cleared."""
    if "*" in mask:
        return copy.deepcopy(source)
    result = dict(target)
    for key, sub in mask.items():
        if not sub:
            if key in source:
                result[key] = copy.deepcopy(source[key])
            else:
                result.pop(key, None)
            continue
        inner_target = result.get(key)
        inner_source = source.get(key)
        merged = apply_mask(
            inner_target if isinstance(inner_target, dict) else {},
            inner_source if isinstance(inner_source, dict) else {},
            sub,
        )
        if merged:
            result[key] = merged
        else:
            result.pop(key, None)
    return result


def mask_paths(mask: Mask, prefix: str = "") -> list[str]:
    """Leaf paths of a mask, dotted (`gridProperties.frozenRowCount`)."""
    paths: list[str] = []
    for key, sub in mask.items():
        path = f"{prefix}{key}"
        paths.extend(mask_paths(sub, path + ".") if sub else [path])
    return paths
