"""Each checklist item's figures: printed, kept as test properties and in one JSON file."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Record = Callable[[str, object], None]


@dataclass
class Figures:
    """Where the figures of this session go: `<basetemp>/reliability.json`, one line each."""

    path: Path

    def report(self, record: Record, item: int, **figures: Any) -> None:
        """Print, record (junit property) and append one item's figures."""
        text = ", ".join(f"{k}={v}" for k, v in figures.items())
        print(f"\nreliability item {item}: {text}")  # noqa: T201 - the figure (run with -s)
        for key, value in figures.items():
            record(f"item{item}.{key}", value)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"item": item, **figures}, default=str) + "\n")
