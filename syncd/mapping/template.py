"""Template relations: a record value composed of several source values, and taken apart again.

`"[{entity.name}] {content}"` says the record's value is the ShotGrid task's entity name in
brackets, a space, then its content. Pull fills the template from the source record; push
matches a record value against it and writes the part that is the field's own path (the
other parts are checked against what the source record holds, never written). Two tools
naming one thing by different conventions then hold the same record value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from syncd.mapping.paths import MISSING, Path, format_path, get_path, parse_path

_SLOT = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and slots (source paths), in order."""

    text: str
    parts: tuple[str | Path, ...]  # a str is literal text, a tuple a slot's path

    @property
    def slots(self) -> list[Path]:
        """The source paths the template reads, in order."""
        return [p for p in self.parts if isinstance(p, tuple)]

    def compose(self, data: Mapping[str, Any]) -> Any:
        """The record value for a source record: MISSING if a slot was not sent; raises
        ValueError naming a blank slot."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = get_path(data, part)
            if value is MISSING:
                return MISSING
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValueError(
                    f"{{{format_path(part)}}} is blank, so the template {self.text!r} "
                    "cannot be filled"
                )
            out.append(str(value).strip() if isinstance(value, str) else str(value))
        return "".join(out)

    def split(self, value: Any) -> dict[Path, str]:
        """Each slot's text in a record value; raises ValueError when it does not fit."""
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text, so it cannot fill {self.text!r}")
        match = _matcher(self).fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} does not have the form {self.text!r}")
        slots = self.slots
        return {slots[i]: match.group(f"s{i}") for i in range(len(slots))}


def parse_template(text: str) -> Template:
    """Parse `text`; raises ValueError on an unbalanced brace, an empty slot, two slots with
    no text between them (where one ends would be a guess) or no slot at all."""
    parts: list[str | Path] = []
    position = 0
    literal: list[str] = []
    for match in _SLOT.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if match.group(1) is None:
            raise ValueError(f"template {text!r} has an unbalanced {token!r} (write {token * 2})")
        if not match.group(1).strip():
            raise ValueError(f"template {text!r} has an empty slot {{}}")
        if parts and isinstance(parts[-1], tuple) and not "".join(literal):
            raise ValueError(f"template {text!r} has two slots with no text between them")
        if "".join(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(parse_path(match.group(1).strip()))
    literal.append(text[position:])
    if "".join(literal):
        parts.append("".join(literal))
    if not any(isinstance(p, tuple) for p in parts):
        raise ValueError(f"template {text!r} has no slot: write one as {{path}}")
    return Template(text, tuple(parts))


@cache
def _matcher(template: Template) -> re.Pattern[str]:
    pattern: list[str] = []
    index = 0
    for part in template.parts:
        if isinstance(part, str):
            pattern.append(re.escape(part))
        else:
            # Lazy: the first place the following literal text occurs ends the slot.
            pattern.append(f"(?P<s{index}>.+?)")
            index += 1
    return re.compile("".join(pattern), re.DOTALL)
